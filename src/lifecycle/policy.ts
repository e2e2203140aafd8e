/**
 * Parses and validates `lifecyclePolicyText` the way ECR does, with ECR's wording where ECR's is
 * known: ECR validates the text against a JSON schema (messages like "object has missing required
 * properties") and then rule by rule ("Rule for tagStatus=ANY must have the lowest priority per
 * storage class"). Hand-written rather than a JSON-schema library because most refusals are
 * cross-rule checks a schema cannot express, and the messages must be ECR's, naming the rule.
 */
import { fail, type BerthError } from '../core/errors.js';
import type { CountType, LifecyclePolicy, LifecycleRule, TagStatus } from '../core/lifecycle.js';

/** ECR's limit on the policy text (the model's `LifecyclePolicyText` max). */
export const MAX_POLICY_LENGTH = 30_720;
const MAX_WILDCARDS = 4;

const TAG_STATUSES: TagStatus[] = ['tagged', 'untagged', 'any'];
const COUNT_TYPES: CountType[] = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
const STORAGE_CLASSES = ['standard', 'archive'] as const;
const ACTION_TYPES = ['expire', 'transition'] as const;

const RULE_KEYS = ['rulePriority', 'description', 'selection', 'action'];
const SELECTION_KEYS = ['tagStatus', 'tagPrefixList', 'tagPatternList', 'storageClass', 'countType', 'countUnit', 'countNumber'];
const ACTION_KEYS = ['type', 'targetStorageClass'];

/** The refusal ECR sends for any invalid policy text. */
export function invalidPolicy(detail: string): BerthError {
  return fail('InvalidParameter', `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ${detail}'`);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
const at = (rule: number | undefined): string => (rule === undefined ? '' : ` (rule with rulePriority ${rule})`);

function checkObject(v: unknown, where: string, required: string[], allowed: string[], rule?: number): Json {
  if (!isObject(v)) throw invalidPolicy(`instance type (${typeName(v)}) does not match any allowed primitive type (allowed: ["object"]) at ${where}${at(rule)}`);
  const missing = required.filter((k) => !(k in v));
  if (missing.length) throw invalidPolicy(`object has missing required properties (${JSON.stringify(missing)}) at ${where}${at(rule)}`);
  const extra = Object.keys(v).filter((k) => !allowed.includes(k));
  if (extra.length) throw invalidPolicy(`object instance has properties which are not allowed by the schema: (${JSON.stringify(extra)}) at ${where}${at(rule)}`);
  return v;
}

function checkEnum<T extends string>(v: unknown, values: readonly T[], field: string, rule: number): T {
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw invalidPolicy(`instance value (${JSON.stringify(v)}) not found in enum (possible values: ${JSON.stringify(values)}) at ${field}${at(rule)}`);
  }
  return v as T;
}

function checkPositiveInt(v: unknown, field: string, rule: number | undefined): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidPolicy(`instance type (${typeName(v)}) does not match any allowed primitive type (allowed: ["integer"]) at ${field}${at(rule)}`);
  if (v < 1) throw invalidPolicy(`numeric instance is lower than the required minimum (minimum: 1, found: ${v}) at ${field}${at(rule)}`);
  if (v > 2_147_483_647) throw invalidPolicy(`numeric instance is greater than the required maximum (maximum: 2147483647, found: ${v}) at ${field}${at(rule)}`);
  return v;
}

function checkTagList(v: unknown, field: 'tagPrefixList' | 'tagPatternList', rule: number): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalidPolicy(`${field} must be a list of strings${at(rule)}`);
  const list = v as string[];
  if (list.length === 0) throw invalidPolicy(`${field} must not be empty${at(rule)}`);
  if (list.some((s) => s.length === 0)) throw invalidPolicy(`${field} must not contain empty strings${at(rule)}`);
  if (field === 'tagPatternList') {
    for (const p of list) {
      if ((p.match(/\*/g)?.length ?? 0) > MAX_WILDCARDS) throw invalidPolicy(`tagPatternList entry ${JSON.stringify(p)} has more than ${MAX_WILDCARDS} wildcards (*)${at(rule)}`);
    }
  }
  return list;
}

function parseRule(raw: unknown, index: number): LifecycleRule {
  const r = checkObject(raw, `rules[${index}]`, ['rulePriority', 'selection', 'action'], RULE_KEYS);
  const prio = checkPositiveInt(r.rulePriority, 'rulePriority', undefined);
  if (r.description !== undefined && typeof r.description !== 'string') throw invalidPolicy(`description must be a string${at(prio)}`);
  const s = checkObject(r.selection, 'selection', ['tagStatus', 'countType', 'countNumber'], SELECTION_KEYS, prio);
  const a = checkObject(r.action, 'action', ['type'], ACTION_KEYS, prio);

  const tagStatus = checkEnum(s.tagStatus, TAG_STATUSES, 'tagStatus', prio);
  const countType = checkEnum(s.countType, COUNT_TYPES, 'countType', prio);
  const countNumber = checkPositiveInt(s.countNumber, 'countNumber', prio);
  const storageClass = s.storageClass === undefined ? 'standard' : checkEnum(s.storageClass, STORAGE_CLASSES, 'storageClass', prio);
  const type = checkEnum(a.type, ACTION_TYPES, 'action.type', prio);

  const hasPrefix = s.tagPrefixList !== undefined;
  const hasPattern = s.tagPatternList !== undefined;
  if (hasPrefix && hasPattern) throw invalidPolicy(`Cannot specify both tagPrefixList and tagPatternList in the same rule${at(prio)}`);
  if (tagStatus === 'tagged' && !hasPrefix && !hasPattern) throw invalidPolicy(`Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.${at(prio)}`);
  if (tagStatus !== 'tagged' && (hasPrefix || hasPattern)) {
    throw invalidPolicy(`${hasPrefix ? 'tagPrefixList' : 'tagPatternList'} can only be used when tagStatus=TAGGED${at(prio)}`);
  }
  const tagPrefixList = hasPrefix ? checkTagList(s.tagPrefixList, 'tagPrefixList', prio) : undefined;
  const tagPatternList = hasPattern ? checkTagList(s.tagPatternList, 'tagPatternList', prio) : undefined;

  if (countType === 'imageCountMoreThan') {
    if (s.countUnit !== undefined) throw invalidPolicy(`countUnit is not allowed when countType=imageCountMoreThan${at(prio)}`);
  } else {
    if (s.countUnit === undefined) throw invalidPolicy(`countUnit is required when countType=${countType}${at(prio)}`);
    checkEnum(s.countUnit, ['days'] as const, 'countUnit', prio);
  }
  if (countType === 'sinceImageTransitioned' && storageClass !== 'archive') {
    throw invalidPolicy(`countType=sinceImageTransitioned requires storageClass=archive${at(prio)}`);
  }

  let action: LifecycleRule['action'];
  if (type === 'transition') {
    if (a.targetStorageClass === undefined) throw invalidPolicy(`targetStorageClass is required when action type=transition${at(prio)}`);
    checkEnum(a.targetStorageClass, ['archive'] as const, 'action.targetStorageClass', prio);
    if (storageClass === 'archive') throw invalidPolicy(`Images in storageClass=archive can only be expired${at(prio)}`);
    action = { type: 'transition', targetStorageClass: 'archive' };
  } else {
    if (a.targetStorageClass !== undefined) throw invalidPolicy(`targetStorageClass can only be used when action type=transition${at(prio)}`);
    action = { type: 'expire' };
  }
  return {
    rulePriority: prio,
    ...(typeof r.description === 'string' ? { description: r.description } : {}),
    selection: {
      tagStatus, storageClass, countType, countNumber,
      ...(tagPrefixList ? { tagPrefixList } : {}),
      ...(tagPatternList ? { tagPatternList } : {}),
      ...(countType !== 'imageCountMoreThan' ? { countUnit: 'days' as const } : {}),
    },
    action,
  };
}

/**
 * Parses `text` into a policy with rules sorted by priority, or throws `InvalidParameter` with
 * ECR's message, naming the rule (by its rulePriority) and the field at fault.
 */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  if (text.length > MAX_POLICY_LENGTH) throw invalidPolicy(`the policy text is longer than ${MAX_POLICY_LENGTH} characters`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPolicy('Could not map policyString into LifecyclePolicy.');
  }
  if (!isObject(doc)) throw invalidPolicy('Could not map policyString into LifecyclePolicy.');
  const top = checkObject(doc, 'the policy', ['rules'], ['rules']);
  if (!Array.isArray(top.rules)) throw invalidPolicy(`instance type (${typeName(top.rules)}) does not match any allowed primitive type (allowed: ["array"]) at rules`);
  if (top.rules.length === 0) throw invalidPolicy('array is too short: must have at least 1 elements but instance has 0 elements at rules');
  const rules = top.rules.map(parseRule);

  const seen = new Set<number>();
  for (const r of rules) {
    if (seen.has(r.rulePriority)) throw invalidPolicy(`rulePriority ${r.rulePriority} is used by more than one rule; rulePriority must be unique`);
    seen.add(r.rulePriority);
  }
  rules.sort((a, b) => a.rulePriority - b.rulePriority);
  for (const cls of STORAGE_CLASSES) {
    const inClass = rules.filter((r) => r.selection.storageClass === cls);
    const last = inClass[inClass.length - 1];
    const any = inClass.find((r) => r.selection.tagStatus === 'any');
    if (any && any !== last) throw invalidPolicy(`Rule for tagStatus=ANY must have the lowest priority per storage class${at(any.rulePriority)}`);
    const untagged = inClass.filter((r) => r.selection.tagStatus === 'untagged');
    if (untagged.length > 1) throw invalidPolicy(`Only one rule can select Untagged images per storage class${at(untagged[1]!.rulePriority)}`);
  }
  return { rules };
}
