/**
 * Wildcard matching and policy-variable expansion shared by `Action`, `Resource`, `Principal`
 * and the string/ARN condition operators.
 *
 * Patterns are compiled to arrays of code points and wildcard markers instead of regular
 * expressions: the matcher is linear-ish with no backtracking blow-up (policies are user input),
 * and characters that come from a variable or a `${*}` escape stay literal by construction.
 */

const STAR = 0;
const ONE = 1;
/** A `:` written in an ARN pattern (not one produced by a variable): a segment boundary. */
const SEP = 2;
type GlobChar = string | typeof STAR | typeof ONE | typeof SEP;

/** Resolves a policy variable's key (case-insensitively) to its value; `undefined` when absent or multi-valued. */
export type VariableLookup = (key: string) => string | undefined;

interface ExpandOptions {
  /** `*` and `?` are wildcards (StringLike, ArnLike, Resource) rather than literal characters. */
  readonly wildcards: boolean;
  /** Expand `${…}`; omitted when the policy's Version predates variables (they stay literal). */
  readonly variables?: VariableLookup;
  /** Mark literal `:` as ARN segment boundaries. */
  readonly arnSegments?: boolean;
}

/** Parses `${name}` or `${name, 'default'}` starting at `start`; undefined when not a well-formed variable. */
function parseVariable(text: string, start: number): { name: string; fallback?: string; end: number } | undefined {
  let inQuote = false;
  for (let j = start + 2; j < text.length; j++) {
    const ch = text[j];
    if (ch === "'") {
      if (inQuote && text[j + 1] === "'") { j++; continue; } // '' is an escaped quote inside a default
      inQuote = !inQuote;
    } else if (ch === '}' && !inQuote) {
      const inner = text.slice(start + 2, j);
      const comma = inner.indexOf(',');
      if (comma < 0) return { name: inner.trim(), end: j + 1 };
      const rest = inner.slice(comma + 1).trim();
      if (rest.length < 2 || !rest.startsWith("'") || !rest.endsWith("'")) return undefined;
      return { name: inner.slice(0, comma).trim(), fallback: rest.slice(1, -1).replaceAll("''", "'"), end: j + 1 };
    }
  }
  return undefined;
}

function pushLiteral(out: GlobChar[], s: string): void {
  for (const c of s) out.push(c);
}

/** Compiles a pattern; `undefined` when a variable cannot be resolved (the element then matches nothing). */
function compile(text: string, opts: ExpandOptions): GlobChar[] | undefined {
  const out: GlobChar[] = [];
  for (let i = 0; i < text.length; ) {
    if (opts.variables && text.startsWith('${', i)) {
      const v = parseVariable(text, i);
      if (v) {
        if (v.name === '*' || v.name === '?' || v.name === '$') pushLiteral(out, v.name);
        else {
          const value = opts.variables(v.name) ?? v.fallback;
          if (value === undefined) return undefined;
          pushLiteral(out, value);
        }
        i = v.end;
        continue;
      }
    }
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    if (opts.wildcards && ch === '*') out.push(STAR);
    else if (opts.wildcards && ch === '?') out.push(ONE);
    else if (opts.arnSegments && ch === ':') out.push(SEP);
    else out.push(ch);
  }
  return out;
}

/** Greedy wildcard match with single-star backtracking: O(pattern × text), never exponential. */
function globMatch(pattern: readonly GlobChar[], text: string, ignoreCase: boolean): boolean {
  const t = Array.from(ignoreCase ? text.toLowerCase() : text);
  const p = ignoreCase ? pattern.flatMap((c): GlobChar[] => (typeof c === 'string' ? Array.from(c.toLowerCase()) : [c])) : pattern;
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    const pc = p[pi];
    if (pi < p.length && (pc === ONE || pc === t[ti] || (pc === SEP && t[ti] === ':'))) { pi++; ti++; }
    else if (pc === STAR) { starP = pi++; starT = ti; }
    else if (starP >= 0) { pi = starP + 1; ti = ++starT; }
    else return false;
  }
  while (p[pi] === STAR) pi++;
  return pi === p.length;
}

/**
 * Matches a string condition value or pattern: `undefined` when a variable in it is unresolvable.
 * `wildcards` selects the `…Like` semantics; without it `*`/`?` are literal.
 */
export function matchString(
  pattern: string, value: string, opts: { wildcards: boolean; ignoreCase: boolean; variables?: VariableLookup },
): boolean | undefined {
  const compiled = compile(pattern, opts);
  return compiled === undefined ? undefined : globMatch(compiled, value, opts.ignoreCase);
}

/** Expands policy variables in a literal (no wildcards) value, e.g. for `Bool`; `undefined` when unresolvable. */
export function expandVariables(text: string, variables?: VariableLookup): string | undefined {
  const compiled = compile(text, { wildcards: false, ...(variables ? { variables } : {}) });
  return compiled?.map((c) => (typeof c === 'string' ? c : '')).join('');
}

/** Splits a compiled ARN pattern at its first five `:` into six segments; undefined if it has fewer. */
function segments(compiled: GlobChar[]): GlobChar[][] | undefined {
  const parts: GlobChar[][] = [[]];
  for (const c of compiled) {
    if (c === SEP && parts.length < 6) parts.push([]);
    else (parts[parts.length - 1] as GlobChar[]).push(c === SEP ? ':' : c);
  }
  return parts.length === 6 ? parts : undefined;
}

/**
 * ARN matching as IAM does it for `Resource` and `Arn…` conditions: case-sensitive, each of the
 * six colon-separated segments matched on its own (so `*` in the region never swallows the
 * account), and `*` in the final resource segment spans `/` and `:`. A pattern without any `:`
 * (such as `*`) is matched against the whole ARN; one with one to four colons matches nothing.
 * Returns `undefined` when a policy variable in the pattern cannot be resolved.
 */
export function matchArn(pattern: string, arn: string, variables?: VariableLookup): boolean | undefined {
  const compiled = compile(pattern, { wildcards: true, arnSegments: true, ...(variables ? { variables } : {}) });
  if (compiled === undefined) return undefined;
  const patternParts = segments(compiled);
  // `*` (no colons) is matched whole; a truncated ARN pattern is malformed and matches nothing.
  if (!patternParts) return !compiled.includes(SEP) && globMatch(compiled, arn, false);
  const colons: number[] = [];
  for (let i = 0; i < arn.length && colons.length < 5; i++) if (arn[i] === ':') colons.push(i);
  if (colons.length < 5) return false;
  const arnParts = [0, ...colons.map((c) => c + 1)].map((from, k) => arn.slice(from, k < 5 ? colons[k] : undefined));
  return patternParts.every((seg, k) => globMatch(seg, arnParts[k] ?? '', false));
}

/** Whether an ARN pattern (`*`, `?`, no variables) matches an ARN. See {@link matchArn}. */
export function arnMatches(pattern: string, arn: string): boolean {
  return matchArn(pattern, arn) === true;
}

/** Whether an `Action` pattern such as `ecr:Batch*` matches an action; case-insensitive, as IAM is. */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatch(compile(pattern, { wildcards: true }) ?? [], action, true);
}
