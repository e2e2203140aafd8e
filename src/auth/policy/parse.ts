/**
 * Policy grammar validation and normalization. Errors name the element at fault
 * (`Statement[1].Effect must be "Allow" or "Deny"`) so they can go straight into a
 * `MalformedPolicyDocument`/`InvalidParameterException` message.
 */
import { parseOperator, policyValueError } from './conditions.js';
import { isAwsPrincipalEntry } from './principal.js';
import type { Condition, PatternList, Policy, PolicyKind, PolicyVersion, PrincipalSet, Statement } from './types.js';

export type ParseResult = { readonly policy: Policy } | { readonly errors: readonly string[] };

const VERSIONS: readonly PolicyVersion[] = ['2012-10-17', '2008-10-17'];
const POLICY_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_KEYS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACTION = /^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A "string or non-empty array of strings" element, as an array; records an error otherwise. */
function stringList(v: unknown, path: string, errors: string[]): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  errors.push(`${path} must be a string or a non-empty array of strings`);
  return undefined;
}

/** Exactly-one-of (or at-most-one-of) `X`/`NotX`; returns the present pair member. */
function pick(s: Record<string, unknown>, name: string, path: string, required: boolean, errors: string[]):
  { negated: boolean; value: unknown } | undefined {
  const has = Object.hasOwn(s, name);
  const hasNot = Object.hasOwn(s, `Not${name}`);
  if (has && hasNot) errors.push(`${path} must not have both ${name} and Not${name}`);
  else if (!has && !hasNot) { if (required) errors.push(`${path} must have ${name} or Not${name}`); }
  else return { negated: hasNot, value: has ? s[name] : s[`Not${name}`] };
  return undefined;
}

function patternList(s: Record<string, unknown>, name: 'Action' | 'Resource', path: string, required: boolean, errors: string[]): PatternList | undefined {
  const picked = pick(s, name, path, required, errors);
  if (!picked) return undefined;
  const element = `${path}.${picked.negated ? 'Not' : ''}${name}`;
  const patterns = stringList(picked.value, element, errors);
  if (!patterns) return undefined;
  patterns.forEach((p, i) => {
    const ok = name === 'Action' ? ACTION.test(p) : p === '*' || (p.startsWith('arn:') && p.split(':').length >= 6);
    if (!ok) errors.push(`${element}[${i}] must be "*" or ${name === 'Action' ? '"service:action"' : 'an ARN'}, not ${JSON.stringify(p)}`);
  });
  return { negated: picked.negated, patterns };
}

function principalSet(v: unknown, negated: boolean, path: string, errors: string[]): PrincipalSet | undefined {
  const set = { negated, wildcard: false, aws: [] as string[], service: [] as string[], federated: [] as string[], canonicalUser: [] as string[] };
  if (v === '*') return { ...set, wildcard: true };
  if (!isRecord(v) || Object.keys(v).length === 0) {
    errors.push(`${path} must be "*" or an object with AWS, Service, Federated or CanonicalUser`);
    return undefined;
  }
  for (const [type, value] of Object.entries(v)) {
    if (!PRINCIPAL_KEYS.has(type)) { errors.push(`${path}.${type} is not a principal type`); continue; }
    const entries = stringList(value, `${path}.${type}`, errors) ?? [];
    if (type === 'AWS') {
      entries.forEach((e, i) => {
        if (!isAwsPrincipalEntry(e)) errors.push(`${path}.AWS[${i}] must be "*", an account id or an IAM ARN, not ${JSON.stringify(e)}`);
      });
      set.wildcard ||= entries.includes('*');
      set.aws.push(...entries.filter((e) => e !== '*'));
    } else if (type === 'Service') set.service.push(...entries);
    else if (type === 'Federated') set.federated.push(...entries);
    else set.canonicalUser.push(...entries);
  }
  return set;
}

function conditions(v: unknown, path: string, errors: string[]): Condition[] {
  if (!isRecord(v)) { errors.push(`${path} must be an object of operator → key → value(s)`); return []; }
  const out: Condition[] = [];
  for (const [raw, block] of Object.entries(v)) {
    const op = parseOperator(raw);
    if (!op) { errors.push(`${path} operator ${JSON.stringify(raw)} is not supported`); continue; }
    if (!isRecord(block) || Object.keys(block).length === 0) { errors.push(`${path}.${raw} must map condition keys to values`); continue; }
    for (const [key, value] of Object.entries(block)) {
      const listed = Array.isArray(value) ? value : [value];
      const scalar = (x: unknown): x is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof x);
      if (listed.length === 0 || !listed.every(scalar)) {
        errors.push(`${path}.${raw}.${key} must be a string, number, boolean or a non-empty array of them`);
        continue;
      }
      const values = listed.map(String);
      values.forEach((val) => {
        const why = policyValueError(op.operator, val);
        if (why) errors.push(`${path}.${raw}.${key} value ${JSON.stringify(val)} ${why}`);
      });
      out.push({ raw, key, values, ...op });
    }
  }
  return out;
}

function statement(s: unknown, path: string, kind: PolicyKind, errors: string[]): Statement | undefined {
  if (!isRecord(s)) { errors.push(`${path} must be an object`); return undefined; }
  const before = errors.length;
  for (const k of Object.keys(s)) if (!STATEMENT_KEYS.has(k)) errors.push(`${path} has unknown element ${JSON.stringify(k)}`);
  if (s.Sid !== undefined && typeof s.Sid !== 'string') errors.push(`${path}.Sid must be a string`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') errors.push(`${path}.Effect must be "Allow" or "Deny"`);
  const action = patternList(s, 'Action', path, true, errors);
  const resource = patternList(s, 'Resource', path, kind === 'identity', errors);
  let principal: PrincipalSet | undefined;
  if (kind === 'identity') {
    if (Object.hasOwn(s, 'Principal') || Object.hasOwn(s, 'NotPrincipal')) errors.push(`${path}.Principal is not allowed in an identity policy`);
  } else {
    const picked = pick(s, 'Principal', path, true, errors);
    if (picked) principal = principalSet(picked.value, picked.negated, `${path}.${picked.negated ? 'Not' : ''}Principal`, errors);
  }
  const conds = s.Condition === undefined ? [] : conditions(s.Condition, `${path}.Condition`, errors);
  if (errors.length > before || !action) return undefined;
  return {
    effect: s.Effect as Statement['effect'],
    action,
    conditions: conds,
    ...(typeof s.Sid === 'string' ? { sid: s.Sid } : {}),
    ...(resource ? { resource } : {}),
    ...(principal ? { principal } : {}),
  };
}

/** Grammar choices that differ between the services that store policies. */
export interface PolicyGrammar {
  /**
   * Refuse two statements with the same `Sid` (default true). IAM requires unique statement ids in the
   * policies it stores; ECR accepts repeats in repository and registry policies.
   */
  readonly uniqueSids?: boolean;
}

/** Validates and normalizes an already-decoded policy document (e.g. a built-in constant). */
export function normalizePolicy(doc: unknown, kind: PolicyKind, grammar: PolicyGrammar = {}): ParseResult {
  const errors: string[] = [];
  if (!isRecord(doc)) return { errors: ['Policy must be a JSON object'] };
  for (const k of Object.keys(doc)) if (!POLICY_KEYS.has(k)) errors.push(`Policy has unknown element ${JSON.stringify(k)}`);
  const version = doc.Version;
  if (version !== undefined && !VERSIONS.includes(version as PolicyVersion)) errors.push('Version must be "2012-10-17" or "2008-10-17"');
  if (doc.Id !== undefined && typeof doc.Id !== 'string') errors.push('Id must be a string');
  const raw = doc.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (list.length === 0) errors.push('Statement must be an object or a non-empty array');
  const statements = list.map((s, i) => statement(s, `Statement[${i}]`, kind, errors));
  if (grammar.uniqueSids !== false) {
    const sids = statements.map((s) => s?.sid).filter((s): s is string => s !== undefined);
    const dup = sids.find((s, i) => sids.indexOf(s) !== i);
    if (dup !== undefined) errors.push(`Statement ids must be unique; ${JSON.stringify(dup)} repeats`);
  }
  if (errors.length > 0) return { errors };
  return {
    policy: {
      kind,
      statements: statements as Statement[],
      ...(version !== undefined ? { version: version as PolicyVersion } : {}),
      ...(typeof doc.Id === 'string' ? { id: doc.Id } : {}),
    },
  };
}

/**
 * Parses a JSON policy document. Identity policies must not name a Principal and need
 * Resource/NotResource; resource policies need Principal/NotPrincipal and may omit Resource
 * (an ECR repository policy applies to its repository). Never throws.
 */
export function parsePolicy(text: string, kind: PolicyKind, grammar: PolicyGrammar = {}): ParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { errors: [`Policy is not valid JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  return normalizePolicy(doc, kind, grammar);
}
