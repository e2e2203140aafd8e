// The wording AWS front ends use for input validation failures, e.g. (as returned by IAM, SSM, Cognito, …)
//   1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1
//   1 validation error detected: Value 'x y' at 'tags.6.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*
// Paths on the wire are 1-based `.N.member.` for list items with each member name's first letter lower-cased
// (the Java field name), so our `tags[5].Value` renders as `tags.6.member.value`. Sensitive values are not
// echoed ("Value at 'password' …"). Unknown-field and wrong-type problems have no AWS equivalent on this path
// (the real services answer SerializationException or silently drop the field), so they get a plain sentence.
import type { Shape, ValidationProblem } from './types.js';

const lowerFirst = (s: string): string => (s === '' ? s : s[0]!.toLowerCase() + s.slice(1));

/** Our path (`imageIds[2].imageTag`) in AWS's rendering (`imageIds.3.member.imageTag`). */
export function awsPath(path: string): string {
  return path
    .replace(/\[(\d+)\]/g, (_, i: string) => `.${Number(i) + 1}.member`)
    .split('.')
    .map(lowerFirst)
    .join('.');
}

const MAX_RENDERED = 1024;

/** A value rendered the way AWS's Java front end prints it: strings bare, lists `[a, b]`. */
export function renderValue(value: unknown): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (Array.isArray(value)) s = `[${value.map(renderValue).join(', ')}]`;
  else if (value instanceof Date) s = value.toISOString();
  else if (typeof value === 'object' && value !== null) {
    s = `{${Object.entries(value).map(([k, v]) => `${k}: ${renderValue(v)}`).join(', ')}}`;
  } else s = String(value);
  return s.length > MAX_RENDERED ? `${s.slice(0, MAX_RENDERED)}…` : s;
}

/** "Value 'v' at 'path' failed to satisfy constraint: <constraint>" (value omitted when sensitive). */
export function constraintMessage(path: string, value: unknown, sensitive: boolean, constraint: string): string {
  const shown = sensitive ? '' : value === undefined || value === null ? ' null' : ` '${renderValue(value)}'`;
  return `Value${shown} at '${awsPath(path)}' failed to satisfy constraint: ${constraint}`;
}

/** The AWS constraint phrases, keyed by what failed. */
export const constraint = {
  notNull: (): string => 'Member must not be null',
  minLength: (n: number): string => `Member must have length greater than or equal to ${n}`,
  maxLength: (n: number): string => `Member must have length less than or equal to ${n}`,
  minValue: (n: number): string => `Member must have value greater than or equal to ${n}`,
  maxValue: (n: number): string => `Member must have value less than or equal to ${n}`,
  pattern: (p: string): string => `Member must satisfy regular expression pattern: ${p}`,
  enumSet: (values: readonly string[]): string => `Member must satisfy enum value set: [${values.join(', ')}]`,
  mapKeys: (inner: string): string => `Map keys must satisfy constraint: [${inner}]`,
  mapValue: (inner: string): string => `Map value must satisfy constraint: [${inner}]`,
};

const EXPECTED: Record<Shape['type'], string> = {
  structure: 'a structure (object)',
  list: 'a list',
  map: 'a map',
  string: 'a string',
  integer: 'an integer',
  long: 'an integer',
  float: 'a number',
  double: 'a number',
  boolean: 'a boolean',
  timestamp: 'a timestamp (epoch seconds or an ISO 8601 string)',
  blob: 'base64-encoded data',
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string '${renderValue(value).slice(0, 64)}'`;
  return `${typeof value} ${String(value)}`;
}

/** Sentence for a value of the wrong type; `actual` overrides the description of what was sent. */
export function typeMessage(path: string, expected: Shape['type'], value: unknown, actual = describe(value)): string {
  const where = path === '' ? 'The request body' : `Value at '${awsPath(path)}'`;
  return `${where} must be ${EXPECTED[expected]}, not ${actual}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** Sentence for a member the structure does not have, suggesting the closest real member. */
export function unknownMessage(path: string, structureName: string, members: readonly string[]): string {
  const dot = path.lastIndexOf('.');
  const field = path.slice(dot + 1);
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(field.length / 4)) + 1;
  for (const m of members) {
    const d = m.toLowerCase() === field.toLowerCase() ? 0 : editDistance(field, m);
    if (d < bestDistance) [best, bestDistance] = [m, d];
  }
  const where = dot < 0 ? '' : ` at '${awsPath(path.slice(0, dot))}'`;
  const hint = best === undefined ? '' : ` (did you mean '${best}'?)`;
  return `Unknown field '${field}'${where} in ${structureName}${hint}`;
}

/**
 * All problems as one AWS-style message: "1 validation error detected: …" or "N validation errors detected:
 * …; …". Returns '' for no problems.
 */
export function formatValidationMessage(problems: readonly ValidationProblem[]): string {
  if (problems.length === 0) return '';
  const n = problems.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.map((p) => p.message).join('; ')}`;
}
