// KMS's rule: a key policy must allow, directly or by delegating to the account's IAM policies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, type CallerPrincipal, type Decision, type Policy } from '../../../src/auth/policy/index.js';
import { ACCT, OTHER, alice, allow, bob, deny, policy, root } from './helpers.js';

const KEY = `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const keyPolicy = (principal: unknown, action: unknown = 'kms:*', effect = 'Allow'): Policy =>
  policy({ Version: '2012-10-17', Statement: [{ Effect: effect, Principal: principal, Action: action, Resource: '*' }] }, 'resource');
const delegate = keyPolicy({ AWS: `arn:aws:iam::${ACCT}:root` });

function decide(principal: CallerPrincipal, keyPolicies: Policy[], identity: Policy[] = []): Decision {
  return evaluate({ action: 'kms:Decrypt', resource: KEY, resourceAccount: ACCT, principal, identityPolicies: identity, resourcePolicies: keyPolicies, context: {}, keyPolicyRule: true }).decision;
}

describe('key policy rule (KMS)', () => {
  const rows: [string, () => Decision, Decision][] = [
    ['the default key policy lets the account root user in', () => decide(root, [delegate]), 'Allow'],
    ['the default key policy alone does not let an IAM user in', () => decide(alice, [delegate]), 'ImplicitDeny'],
    ['the default key policy plus an identity Allow lets the user in', () => decide(alice, [delegate], [allow('kms:Decrypt')]), 'Allow'],
    ['an identity Allow without a delegating key policy is not enough', () => decide(alice, [keyPolicy({ AWS: `arn:aws:iam::${ACCT}:user/carol` })], [allow('kms:*')]), 'ImplicitDeny'],
    ['a key policy naming the user allows without any identity policy', () => decide(alice, [keyPolicy({ AWS: alice.arn }, 'kms:Decrypt')]), 'Allow'],
    ['a key policy without the root account locks out even the root user', () => decide(root, [keyPolicy({ AWS: alice.arn })]), 'ImplicitDeny'],
    ['an identity Deny beats a key policy Allow', () => decide(alice, [keyPolicy({ AWS: alice.arn })], [deny('kms:Decrypt')]), 'ExplicitDeny'],
    ['a key policy Deny beats an identity Allow', () => decide(alice, [delegate, keyPolicy({ AWS: alice.arn }, 'kms:Decrypt', 'Deny')], [allow('kms:*')]), 'ExplicitDeny'],
    ['another account needs the key policy to name it and its own identity Allow', () => decide(bob, [keyPolicy({ AWS: `arn:aws:iam::${OTHER}:root` })], [allow('kms:Decrypt')]), 'Allow'],
    ['another account without its identity Allow is refused', () => decide(bob, [keyPolicy({ AWS: `arn:aws:iam::${OTHER}:root` })]), 'ImplicitDeny'],
  ];
  for (const [name, run, expected] of rows) it(name, () => assert.equal(run(), expected));
});
