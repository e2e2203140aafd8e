/**
 * IAM policy evaluation for berth: parse and validate policy documents, then decide requests
 * the way AWS does. Pure — no I/O, no clock, no storage; callers gather policies and context.
 */
export { evaluate } from './evaluate.js';
export { parsePolicy, normalizePolicy, type ParseResult, type PolicyGrammar } from './parse.js';
export { actionMatches, arnMatches } from './wildcard.js';
export {
  MANAGED_POLICIES,
  AMAZON_EC2_CONTAINER_REGISTRY_READ_ONLY,
  AMAZON_EC2_CONTAINER_REGISTRY_POWER_USER,
  AMAZON_EC2_CONTAINER_REGISTRY_FULL_ACCESS,
  type ManagedPolicy,
} from './managed-policies.js';
export type * from './types.js';
