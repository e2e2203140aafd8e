import assert from 'node:assert/strict';
import { evaluate, parsePolicy } from '../../../src/auth/policy/index.js';
import type { CallerPrincipal, ConditionValue, EvaluationResult, Policy, PolicyKind } from '../../../src/auth/policy/index.js';

export const ACCT = '111122223333';
export const OTHER = '444455556666';
export const REPO = `arn:aws:ecr:us-east-1:${ACCT}:repository/team/app`;

export const alice: CallerPrincipal = { arn: `arn:aws:iam::${ACCT}:user/alice`, account: ACCT };
export const root: CallerPrincipal = { arn: `arn:aws:iam::${ACCT}:root`, account: ACCT, isRoot: true };
export const bob: CallerPrincipal = { arn: `arn:aws:iam::${OTHER}:user/bob`, account: OTHER };
export const otherRoot: CallerPrincipal = { arn: `arn:aws:iam::${OTHER}:root`, account: OTHER, isRoot: true };
export const session: CallerPrincipal = { arn: `arn:aws:sts::${OTHER}:assumed-role/ci/build-42`, account: OTHER };
export const anonymous: CallerPrincipal = { arn: '*', account: '', anonymous: true };

/** Parses a policy given as an object, failing the test on grammar errors. */
export function policy(doc: unknown, kind: PolicyKind = 'identity'): Policy {
  const r = parsePolicy(JSON.stringify(doc), kind);
  if ('errors' in r) assert.fail(`policy did not parse: ${r.errors.join('; ')}`);
  return r.policy;
}

/** An identity policy of one statement. */
export function allow(action: unknown, resource: unknown = '*', extra: Record<string, unknown> = {}): Policy {
  return policy({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: action, Resource: resource, ...extra } });
}

export function deny(action: unknown, resource: unknown = '*', extra: Record<string, unknown> = {}): Policy {
  return policy({ Version: '2012-10-17', Statement: { Effect: 'Deny', Action: action, Resource: resource, ...extra } });
}

/** A resource (repository) policy of one statement, with no Resource as ECR writes them. */
export function repoPolicy(effect: 'Allow' | 'Deny', principal: unknown, action: unknown, extra: Record<string, unknown> = {}): Policy {
  return policy({ Version: '2012-10-17', Statement: { Sid: `${effect}It`, Effect: effect, Principal: principal, Action: action, ...extra } }, 'resource');
}

export interface Ask {
  action?: string;
  resource?: string;
  resourceAccount?: string;
  principal?: CallerPrincipal;
  identity?: Policy[];
  resourcePolicies?: Policy[];
  context?: Record<string, ConditionValue>;
}

export function ask(a: Ask): EvaluationResult {
  return evaluate({
    action: a.action ?? 'ecr:BatchGetImage',
    resource: a.resource ?? REPO,
    resourceAccount: a.resourceAccount ?? ACCT,
    principal: a.principal ?? alice,
    identityPolicies: a.identity ?? [],
    resourcePolicies: a.resourcePolicies ?? [],
    context: a.context ?? {},
  });
}
