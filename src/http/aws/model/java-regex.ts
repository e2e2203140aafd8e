// botocore `pattern`s are java.util.regex syntax, applied by the AWS front end with full-match semantics
// (`Matcher.matches()`): IAM rejects "a b" for `[\w+=,.@-]+` although the pattern alone would find "a".
// So a pattern P is compiled as /^(?:P')$/ where P' is P translated to ECMAScript. The translation covers
// what Java accepts and JS does not (or reads differently):
//   \p{L}, \p{IsL} … → need the `u` flag        \p{Alpha}, \p{Punct} … (POSIX) → ASCII ranges
//   \: \@ … (escaped non-syntax punctuation, a SyntaxError under `u`) → the bare character
//   \Q…\E quoting → escaped literal               \A \z \Z → ^ $ (?=\n?$)          \x{h…} → \u{h…}
//   [a[b]] class union → [ab]                     [\w-_] dash after a class escape → literal \-
// Constructs with no faithful JS equivalent (possessive quantifiers, atomic groups, inline flags, class
// intersection, \G \R \X \h \v …) make the pattern "skipped": the check is not applied and the pattern is
// listed by skippedPatterns(), which a test keeps short.

const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);
const POSIX: Record<string, string> = {
  Lower: 'a-z', Upper: 'A-Z', ASCII: '\\x00-\\x7F', Alpha: 'a-zA-Z', Digit: '0-9', Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~', Graph: '\\x21-\\x7E', Print: '\\x20-\\x7E', Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F', XDigit: '0-9a-fA-F', Space: ' \\t\\n\\x0B\\f\\r',
};
const CLASS_ESCAPE = /^\\[dDwWsSpP]/;

const escapeLiteral = (s: string): string => [...s].map((c) => (JS_SYNTAX.has(c) || c === '-' ? `\\${c}` : c)).join('');

/** Thrown inside the translator for constructs JS cannot express; caught by translateJavaRegex. */
class Unsupported extends Error {}

/** Reads `\p{Name}` / `\pL` at `i` (pointing at the backslash); returns the JS text and the next index. */
function propertyEscape(java: string, i: number, inClass: boolean): [string, number] {
  const negated = java[i + 1] === 'P';
  let name: string;
  let next: number;
  if (java[i + 2] === '{') {
    const close = java.indexOf('}', i + 3);
    if (close < 0) throw new Unsupported('unterminated \\p{');
    name = java.slice(i + 3, close);
    next = close + 1;
  } else {
    name = java[i + 2] ?? '';
    next = i + 3;
  }
  const posix = POSIX[name];
  if (posix !== undefined) {
    if (inClass && negated) throw new Unsupported('negated POSIX class inside a class');
    return [inClass ? posix : `[${negated ? '^' : ''}${posix}]`, next];
  }
  if (name.startsWith('In') || name.startsWith('java') || name === '') throw new Unsupported(`\\p{${name}}`);
  if (name.startsWith('Is')) name = name.slice(2);
  return [`\\${negated ? 'P' : 'p'}{${name}}`, next];
}

/**
 * Translates one Java regex to an ECMAScript source and flags, full-match anchored.
 * Returns null when the pattern uses a construct JS cannot express faithfully.
 */
export function translateJavaRegex(java: string): { source: string; flags: string } | null {
  try {
    let out = '';
    let unicode = /\\[pP]/.test(java);
    let depth = 0; // character-class nesting (Java allows [a[b]]); 0 = outside any class
    let afterClassEscape = false;
    for (let i = 0; i < java.length; ) {
      const c = java[i] as string;
      const n = java[i + 1];
      let classEscape = false;
      if (c === '\\') {
        if (n === undefined) throw new Unsupported('trailing backslash');
        if (n === 'Q') {
          const end = java.indexOf('\\E', i + 2);
          const lit = java.slice(i + 2, end < 0 ? java.length : end);
          out += escapeLiteral(lit);
          i = end < 0 ? java.length : end + 2;
          afterClassEscape = false;
          continue;
        }
        if (n === 'p' || n === 'P') {
          const [js, next] = propertyEscape(java, i, depth > 0);
          out += js;
          i = next;
          afterClassEscape = true;
          continue;
        }
        if (n === 'x' && java[i + 2] === '{') {
          const close = java.indexOf('}', i + 3);
          if (close < 0) throw new Unsupported('unterminated \\x{');
          out += `\\u{${java.slice(i + 3, close)}}`;
          unicode = true;
          i = close + 1;
          continue;
        }
        if (depth === 0 && (n === 'A' || n === 'z' || n === 'Z')) out += n === 'A' ? '^' : n === 'z' ? '$' : '(?=\\n?$)';
        else if ('GRXhHvVKe0a'.includes(n)) {
          if (n === 'e') out += '\\x1B';
          else if (n === 'a') out += '\\x07';
          else throw new Unsupported(`\\${n}`);
        } else if (/[A-Za-z0-9]/.test(n)) {
          out += `\\${n}`;
          classEscape = /[dDwWsS]/.test(n);
        } else out += JS_SYNTAX.has(n) || (n === '-' && depth > 0) ? `\\${n}` : n;
        i += 2;
      } else if (depth > 0) {
        if (c === '[') {
          if (n === '^') throw new Unsupported('negated nested class');
          depth++;
        } else if (c === ']') {
          depth--;
          if (depth === 0) out += ']';
        } else if (c === '&' && n === '&') throw new Unsupported('class intersection');
        else if (c === '-' && (afterClassEscape || CLASS_ESCAPE.test(java.slice(i + 1)))) out += '\\-';
        else out += c;
        i++;
      } else {
        if ('*+?}'.includes(c) && n === '+') throw new Unsupported('possessive quantifier');
        if (c === '(' && n === '?' && !':=!<'.includes(java[i + 2] ?? '')) throw new Unsupported('inline flag or atomic group');
        if (c === '[') {
          depth = 1;
          out += c;
          if (n === '^') {
            out += n;
            i++;
          }
        } else out += c === ']' ? '\\]' : c;
        i++;
      }
      afterClassEscape = classEscape;
    }
    if (depth !== 0) throw new Unsupported('unterminated class');
    return { source: `^(?:${out})$`, flags: unicode ? 'u' : '' };
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

const compiled = new Map<string, RegExp | null>();

/** The compiled, full-match RegExp for a Java pattern (cached), or null if it cannot be used (see skippedPatterns). */
export function compileJavaPattern(java: string): RegExp | null {
  if (compiled.has(java)) return compiled.get(java) ?? null;
  let re: RegExp | null = null;
  const t = translateJavaRegex(java);
  if (t) {
    try {
      re = new RegExp(t.source, t.flags);
    } catch {
      re = null;
    }
  }
  compiled.set(java, re);
  return re;
}

/** Patterns met so far that could not be compiled; their checks are skipped. */
export function skippedPatterns(): string[] {
  return [...compiled].filter(([, re]) => re === null).map(([p]) => p);
}
