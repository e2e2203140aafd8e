/**
 * The IAM decision, following AWS's documented evaluation logic for identity and resource
 * policies (no SCPs, boundaries or session policies — berth has none):
 *
 *   any applicable Deny ─────────────────────────────────────────────► ExplicitDeny
 *   anonymous caller:  Allow from a resource statement with Principal "*" ► Allow
 *   same account:      identity Allow  OR  resource Allow naming the caller (or root user) ► Allow
 *   cross account:     identity Allow  AND resource Allow (naming the caller or its account) ► Allow
 *   otherwise ────────────────────────────────────────────────────────► ImplicitDeny
 *
 * A resource statement that names only the caller's account delegates to that account, so in
 * the same account it adds nothing to an identity Allow (see principal.ts).
 */
import { evaluateCondition, type ContextLookup } from './conditions.js';
import { matchPrincipal, isRootCaller } from './principal.js';
import type { ConditionValue, EvaluationRequest, EvaluationResult, MatchedStatement, Policy, Statement } from './types.js';
import { actionMatches, matchArn, type VariableLookup } from './wildcard.js';

const USER_ARN = /^arn:[^:]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/;

/** Case-insensitive view of the request context, with the principal keys IAM always sets. */
function contextOf(req: EvaluationRequest): ContextLookup {
  const map = new Map<string, ConditionValue>();
  const p = req.principal;
  if (!p.anonymous) {
    map.set('aws:principalarn', p.arn);
    map.set('aws:principalaccount', p.account);
    const user = USER_ARN.exec(p.arn)?.[1];
    if (user !== undefined) map.set('aws:username', user);
  }
  for (const [k, v] of Object.entries(req.context)) if (v !== undefined) map.set(k.toLowerCase(), v);
  return (key) => map.get(key.toLowerCase());
}

/** Policy variables resolve from the context; multi-valued keys cannot be substituted. */
function variablesOf(context: ContextLookup): VariableLookup {
  return (key) => {
    const v = context(key);
    if (v === undefined || Array.isArray(v)) return undefined;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
    return String(v);
  };
}

/** Whether the statement's Action, Resource and Condition all apply (Principal is checked by the caller). */
function applies(s: Statement, policy: Policy, req: EvaluationRequest, context: ContextLookup, vars: VariableLookup): boolean {
  // Variables are a 2012-10-17 feature; under older versions `${…}` is literal text.
  const variables = policy.version === '2012-10-17' ? vars : undefined;
  if (s.action.patterns.some((p) => actionMatches(p, req.action)) === s.action.negated) return false;
  if (s.resource) {
    const results = s.resource.patterns.map((p) => matchArn(p, req.resource, variables));
    // An unresolvable variable invalidates the statement instead of silently widening NotResource.
    if (results.includes(undefined)) return false;
    if (results.includes(true) === s.resource.negated) return false;
  }
  return s.conditions.every((c) => evaluateCondition(c, context, variables));
}

function describe(m: MatchedStatement): string {
  return `${m.source} policy #${m.policyIndex} statement ${m.sid !== undefined ? JSON.stringify(m.sid) : `#${m.statementIndex}`}`;
}

/**
 * Decides one request. Pure: the caller gathers the policies and the context (including
 * `aws:CurrentTime`, `aws:SourceIp`, `aws:SecureTransport` — nothing is read from the clock or
 * the network here).
 */
export function evaluate(req: EvaluationRequest): EvaluationResult {
  const context = contextOf(req);
  const vars = variablesOf(context);
  const p = req.principal;
  const anonymous = p.anonymous === true;
  const matched: MatchedStatement[] = [];
  let identityAllow = false;
  let resourceDirect = false;
  let resourceDelegated = false;

  if (!anonymous) {
    req.identityPolicies.forEach((policy, policyIndex) => policy.statements.forEach((s, statementIndex) => {
      if (!applies(s, policy, req, context, vars)) return;
      matched.push({ source: 'identity', policyIndex, statementIndex, effect: s.effect, ...(s.sid !== undefined ? { sid: s.sid } : {}) });
      if (s.effect === 'Allow') identityAllow = true;
    }));
  }
  req.resourcePolicies.forEach((policy, policyIndex) => policy.statements.forEach((s, statementIndex) => {
    if (!s.principal) return;
    const how = matchPrincipal(s.principal, p);
    if (how === 'none') return;
    // NotPrincipal can deny an anonymous caller but never allow one: only Principal "*" can.
    if (s.effect === 'Allow' && anonymous && s.principal.negated) return;
    if (!applies(s, policy, req, context, vars)) return;
    matched.push({ source: 'resource', policyIndex, statementIndex, effect: s.effect, ...(s.sid !== undefined ? { sid: s.sid } : {}) });
    if (s.effect === 'Allow' && how === 'direct') resourceDirect = true;
    if (s.effect === 'Allow' && how === 'account') resourceDelegated = true;
  }));

  const deny = matched.find((m) => m.effect === 'Deny');
  const result = (decision: EvaluationResult['decision'], reason: string): EvaluationResult => ({ decision, reason, matchedStatements: matched });
  const what = `${req.action} on ${req.resource}`;
  if (deny) return result('ExplicitDeny', `${what} is explicitly denied by ${describe(deny)}`);
  if (anonymous) {
    return resourceDirect
      ? result('Allow', `anonymous ${what} is allowed by a resource policy granting Principal "*"`)
      : result('ImplicitDeny', `anonymous callers need a resource policy allowing Principal "*" for ${what}`);
  }
  const root = isRootCaller(p);
  if (req.keyPolicyRule) {
    if (resourceDirect) return result('Allow', `${what} is allowed by the key policy`);
    if (resourceDelegated && identityAllow) return result('Allow', `${what} is allowed by an identity policy the key policy delegates to`);
    return result('ImplicitDeny', resourceDelegated
      ? `the key policy delegates ${what} to the account, but no identity policy allows it`
      : `the key policy does not allow ${what}`);
  }
  const identityOk = identityAllow || root;
  if (p.account === req.resourceAccount) {
    if (root) return result('Allow', `the account root user may perform ${what} in its own account`);
    if (identityAllow) return result('Allow', `${what} is allowed by an identity policy`);
    if (resourceDirect) return result('Allow', `${what} is allowed by a resource policy`);
    return result('ImplicitDeny', resourceDelegated
      ? `a resource policy delegates ${what} to the account, but no identity policy allows it`
      : `no policy allows ${what}`);
  }
  const resourceOk = resourceDirect || resourceDelegated;
  if (identityOk && resourceOk) return result('Allow', `cross-account ${what} is allowed by both an identity and a resource policy`);
  const missing = [identityOk ? undefined : 'identity', resourceOk ? undefined : 'resource'].filter(Boolean).join(' and ');
  return result('ImplicitDeny', `cross-account ${what} needs an Allow in both an identity and a resource policy; no ${missing} policy allows it`);
}
