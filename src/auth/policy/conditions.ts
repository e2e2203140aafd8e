/**
 * The `Condition` element. Semantics follow the IAM reference ("Condition operators", "Set
 * operators for multivalued context keys"):
 *
 * - values listed for one key are ORed; for negated operators (`…Not…`, `NotIpAddress`) the
 *   result is "matches none of them";
 * - a key missing from the request makes positive operators false and negated operators true,
 *   except `…IfExists` (true when missing) and `Null` (which tests presence itself);
 * - `ForAnyValue:` needs at least one request value to satisfy the operator (missing → false),
 *   `ForAllValues:` needs every request value to (missing or empty → true);
 * - keys are case-insensitive, values case-sensitive except `…IgnoreCase`;
 * - a policy variable that cannot be resolved makes its condition false (IAM: "the statement may
 *   be invalid"), so an unresolvable Allow never grants.
 */
import { cidrContains, parseCidr, parseIp } from './cidr.js';
import type { BaseOperator, Condition, ConditionValue, SetQualifier } from './types.js';
import { expandVariables, matchArn, matchString, type VariableLookup } from './wildcard.js';

type Family = 'string' | 'arn' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'null';
/** Positive test of one request value against one policy value; `undefined` = unresolvable variable. */
type Test = (requestValue: string, policyValue: string, variables?: VariableLookup) => boolean | undefined;

interface OperatorSpec {
  readonly family: Family;
  readonly negated: boolean;
  readonly test: Test;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
/** ISO 8601 date or date-time, or epoch seconds (what `aws:EpochTime` holds). */
const EPOCH = /^-?\d+(\.\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseNumber(s: string): number | undefined {
  return NUMBER.test(s.trim()) ? Number(s) : undefined;
}

/** Milliseconds since the epoch, or undefined when `s` is neither ISO 8601 nor epoch seconds. */
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (EPOCH.test(t)) return Number(t) * 1000;
  if (!ISO_DATE.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

const numeric = (cmp: (a: number, b: number) => boolean): Test => (r, p) => {
  const a = parseNumber(r);
  const b = parseNumber(p);
  return a !== undefined && b !== undefined && cmp(a, b);
};
const date = (cmp: (a: number, b: number) => boolean): Test => (r, p) => {
  const a = parseDate(r);
  const b = parseDate(p);
  return a !== undefined && b !== undefined && cmp(a, b);
};
const str = (wildcards: boolean, ignoreCase: boolean): Test => (r, p, variables) =>
  matchString(p, r, { wildcards, ignoreCase, ...(variables ? { variables } : {}) });
const arn: Test = (r, p, variables) => matchArn(p, r, variables);
const ip: Test = (r, p) => {
  const block = parseCidr(p);
  const addr = parseIp(r);
  return block !== undefined && addr !== undefined && cidrContains(block, addr);
};
const bool: Test = (r, p, variables) => {
  const expected = expandVariables(p, variables);
  return expected === undefined ? undefined : expected.toLowerCase() === r.toLowerCase();
};

const eq = (a: number, b: number): boolean => a === b;
const lt = (a: number, b: number): boolean => a < b;
const le = (a: number, b: number): boolean => a <= b;
const gt = (a: number, b: number): boolean => a > b;
const ge = (a: number, b: number): boolean => a >= b;

const spec = (family: Family, negated: boolean, test: Test): OperatorSpec => ({ family, negated, test });

const OPERATORS: Readonly<Record<BaseOperator, OperatorSpec>> = {
  StringEquals: spec('string', false, str(false, false)),
  StringNotEquals: spec('string', true, str(false, false)),
  StringEqualsIgnoreCase: spec('string', false, str(false, true)),
  StringNotEqualsIgnoreCase: spec('string', true, str(false, true)),
  StringLike: spec('string', false, str(true, false)),
  StringNotLike: spec('string', true, str(true, false)),
  // IAM documents ArnEquals and ArnLike identically: per-segment, wildcards allowed in both.
  ArnEquals: spec('arn', false, arn),
  ArnNotEquals: spec('arn', true, arn),
  ArnLike: spec('arn', false, arn),
  ArnNotLike: spec('arn', true, arn),
  NumericEquals: spec('numeric', false, numeric(eq)),
  NumericNotEquals: spec('numeric', true, numeric(eq)),
  NumericLessThan: spec('numeric', false, numeric(lt)),
  NumericLessThanEquals: spec('numeric', false, numeric(le)),
  NumericGreaterThan: spec('numeric', false, numeric(gt)),
  NumericGreaterThanEquals: spec('numeric', false, numeric(ge)),
  DateEquals: spec('date', false, date(eq)),
  DateNotEquals: spec('date', true, date(eq)),
  DateLessThan: spec('date', false, date(lt)),
  DateLessThanEquals: spec('date', false, date(le)),
  DateGreaterThan: spec('date', false, date(gt)),
  DateGreaterThanEquals: spec('date', false, date(ge)),
  Bool: spec('bool', false, bool),
  BinaryEquals: spec('binary', false, (r, p) => r === p),
  IpAddress: spec('ip', false, ip),
  NotIpAddress: spec('ip', true, ip),
  Null: spec('null', false, () => false),
};

function isBaseOperator(s: string): s is BaseOperator {
  return Object.hasOwn(OPERATORS, s);
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; undefined for an unknown operator. */
export function parseOperator(raw: string): { operator: BaseOperator; qualifier?: SetQualifier; ifExists: boolean } | undefined {
  let rest = raw;
  let qualifier: SetQualifier | undefined;
  const q = (['ForAnyValue', 'ForAllValues'] as const).find((x) => rest.startsWith(`${x}:`));
  if (q) { qualifier = q; rest = rest.slice(q.length + 1); }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'IfExists') { ifExists = true; rest = rest.slice(0, -'IfExists'.length); }
  if (!isBaseOperator(rest)) return undefined;
  // Null tests presence itself, so "if exists" and set qualifiers are meaningless on it.
  if (rest === 'Null' && (ifExists || qualifier)) return undefined;
  return { operator: rest, ifExists, ...(qualifier ? { qualifier } : {}) };
}

/** Why a policy value is unusable with this operator, or undefined when it is fine. */
export function policyValueError(operator: BaseOperator, value: string): string | undefined {
  const { family } = OPERATORS[operator];
  const isVar = value.includes('${');
  switch (family) {
    case 'numeric': return parseNumber(value) === undefined ? 'must be a number' : undefined;
    case 'date': return parseDate(value) === undefined ? 'must be an ISO 8601 date or epoch seconds' : undefined;
    case 'ip': return parseCidr(value) === undefined ? 'must be an IPv4 or IPv6 address or CIDR block' : undefined;
    case 'null': return /^(true|false)$/i.test(value) ? undefined : 'must be "true" or "false"';
    case 'bool': return isVar || /^(true|false)$/i.test(value) ? undefined : 'must be "true" or "false"';
    default: return undefined;
  }
}

/** Operator families whose policy values may hold `${…}` variables (IAM: not numeric, date, IP). */
const VARIABLE_FAMILIES: ReadonlySet<Family> = new Set(['string', 'arn', 'bool']);

/** A request value as strings; `undefined` when the key is absent (or an empty multi-valued key). */
function requestValues(v: ConditionValue): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v;
  if (v instanceof Date) return [Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()];
  return [String(v)];
}

/** Reads a request-context key (case-insensitively). */
export type ContextLookup = (key: string) => ConditionValue;

/** Evaluates one condition against the request context. */
export function evaluateCondition(c: Condition, context: ContextLookup, variables?: VariableLookup): boolean {
  const values = requestValues(context(c.key));
  const op = OPERATORS[c.operator];
  if (c.operator === 'Null') return c.values.some((v) => v.toLowerCase() === String(values === undefined));
  if (values === undefined) {
    if (c.ifExists || c.qualifier === 'ForAllValues') return true;
    if (c.qualifier === 'ForAnyValue') return false;
    return op.negated;
  }
  if (variables && VARIABLE_FAMILIES.has(op.family) && c.values.some((p) => expandVariables(p, variables) === undefined)) {
    return false;
  }
  const matchesAny = (requestValue: string): boolean => c.values.some((p) => op.test(requestValue, p, variables) === true);
  const satisfies = (requestValue: string): boolean => matchesAny(requestValue) !== op.negated;
  if (c.qualifier === 'ForAllValues') return values.every(satisfies);
  if (c.qualifier === 'ForAnyValue') return values.some(satisfies);
  return values.some(matchesAny) !== op.negated;
}
