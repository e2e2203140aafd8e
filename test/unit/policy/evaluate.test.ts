import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../../src/auth/policy/index.js';
import {
  ACCT, OTHER, REPO, alice, allow, anonymous, ask, bob, deny, otherRoot, policy, repoPolicy, root, session, type Ask,
} from './helpers.js';

type Row = [behaviour: string, request: Ask, expected: Decision];

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const [behaviour, request, expected] of rows) {
      it(behaviour, () => {
        const r = ask(request);
        assert.equal(r.decision, expected, r.reason);
      });
    }
  });
}

const pull = 'ecr:BatchGetImage';
const aliceArn = alice.arn;

table('explicit deny, allow and implicit deny', [
  ['with no policy at all the request is implicitly denied', {}, 'ImplicitDeny'],
  ['an identity Allow for the action allows', { identity: [allow(pull)] }, 'Allow'],
  ['an Allow for another action does not allow', { identity: [allow('ecr:PutImage')] }, 'ImplicitDeny'],
  ['an Allow for another resource does not allow', { identity: [allow('ecr:*', `arn:aws:ecr:us-east-1:${ACCT}:repository/other`)] }, 'ImplicitDeny'],
  ['a Deny beats an Allow in another identity policy', { identity: [allow('ecr:*'), deny(pull)] }, 'ExplicitDeny'],
  ['a Deny beats an Allow in the same policy', { identity: [policy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'ecr:Batch*', Resource: REPO }] })] }, 'ExplicitDeny'],
  ['a repository-policy Deny beats an identity Allow', { identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Deny', { AWS: aliceArn }, pull)] }, 'ExplicitDeny'],
  ['an identity Deny beats a repository-policy Allow', { identity: [deny('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: aliceArn }, pull)] }, 'ExplicitDeny'],
  ['a Deny whose condition does not hold does not deny', { identity: [allow('ecr:*'), deny('ecr:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })], context: { 'aws:SecureTransport': true } }, 'Allow'],
  ['a Deny whose condition holds denies', { identity: [allow('ecr:*'), deny('ecr:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })], context: { 'aws:SecureTransport': false } }, 'ExplicitDeny'],
  ['a registry-policy Deny conditioned on the source IP denies outside callers', {
    identity: [allow('ecr:*')],
    resourcePolicies: [repoPolicy('Allow', { AWS: aliceArn }, pull), repoPolicy('Deny', '*', 'ecr:*', { Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })],
    context: { 'aws:SourceIp': '192.0.2.1' },
  }, 'ExplicitDeny'],
  ['actions are matched case-insensitively', { action: 'ECR:batchgetimage', identity: [allow(pull)] }, 'Allow'],
]);

table('NotAction and NotResource', [
  ['an Allow with NotAction allows actions outside the list', { identity: [allow(undefined, '*', { Action: undefined, NotAction: 'ecr:Delete*' })] }, 'Allow'],
  ['an Allow with NotAction does not allow listed actions', { action: 'ecr:DeleteRepository', identity: [allow(undefined, '*', { Action: undefined, NotAction: 'ecr:Delete*' })] }, 'ImplicitDeny'],
  ['a Deny with NotAction denies everything except the listed actions', { action: 'ecr:PutImage', identity: [allow('ecr:*'), deny(undefined, '*', { Action: undefined, NotAction: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] })] }, 'ExplicitDeny'],
  ['a Deny with NotAction spares the listed actions', { identity: [allow('ecr:*'), deny(undefined, '*', { Action: undefined, NotAction: ['ecr:BatchGetImage'] })] }, 'Allow'],
  ['an Allow with NotResource allows resources outside the list', { identity: [allow('ecr:*', undefined, { Resource: undefined, NotResource: `arn:aws:ecr:*:${ACCT}:repository/secret/*` })] }, 'Allow'],
  ['an Allow with NotResource does not allow listed resources', { resource: `arn:aws:ecr:us-east-1:${ACCT}:repository/secret/x`, identity: [allow('ecr:*', undefined, { Resource: undefined, NotResource: `arn:aws:ecr:*:${ACCT}:repository/secret/*` })] }, 'ImplicitDeny'],
]);

table('policy variables in Resource', [
  ['${aws:username} scopes a user to their own repositories', { resource: `arn:aws:ecr:us-east-1:${ACCT}:repository/alice/app`, identity: [allow('ecr:*', 'arn:aws:ecr:*:*:repository/${aws:username}/*')] }, 'Allow'],
  ['${aws:username} does not reach other users\' repositories', { resource: `arn:aws:ecr:us-east-1:${ACCT}:repository/carol/app`, identity: [allow('ecr:*', 'arn:aws:ecr:*:*:repository/${aws:username}/*')] }, 'ImplicitDeny'],
  ['aws:username is derived from a user ARN with a path', { principal: { arn: `arn:aws:iam::${ACCT}:user/eng/alice`, account: ACCT }, resource: `arn:aws:ecr:us-east-1:${ACCT}:repository/alice/x`, identity: [allow('ecr:*', 'arn:aws:ecr:*:*:repository/${aws:username}/*')] }, 'Allow'],
  ['${aws:PrincipalAccount} in Resource matches the caller\'s account', { identity: [allow('ecr:*', 'arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*')] }, 'Allow'],
  ['an unresolvable variable in Resource makes the Allow inapplicable', { identity: [allow('ecr:*', 'arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*')] }, 'ImplicitDeny'],
  ['an unresolvable variable in NotResource does not widen the Allow', { identity: [allow('ecr:*', undefined, { Resource: undefined, NotResource: 'arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*' })] }, 'ImplicitDeny'],
  ['a context value overrides the derived aws:username', { context: { 'aws:username': 'team' }, identity: [allow('ecr:*', 'arn:aws:ecr:*:*:repository/${aws:username}/*')] }, 'Allow'],
]);

table('same account: identity OR resource policy', [
  ['a repository policy naming the user allows without any identity policy', { resourcePolicies: [repoPolicy('Allow', { AWS: aliceArn }, pull)] }, 'Allow'],
  ['a repository policy with Principal "*" allows an identity without policies', { resourcePolicies: [repoPolicy('Allow', '*', pull)] }, 'Allow'],
  ['a repository policy naming only the account delegates: alone it does not allow a user', { resourcePolicies: [repoPolicy('Allow', { AWS: ACCT }, pull)] }, 'ImplicitDeny'],
  ['a repository policy naming the account root ARN also only delegates', { resourcePolicies: [repoPolicy('Allow', { AWS: `arn:aws:iam::${ACCT}:root` }, pull)] }, 'ImplicitDeny'],
  ['an identity Allow alone allows', { identity: [allow(pull)], resourcePolicies: [repoPolicy('Allow', { AWS: bob.arn }, pull)] }, 'Allow'],
  ['a repository policy for another action does not allow', { resourcePolicies: [repoPolicy('Allow', { AWS: aliceArn }, 'ecr:PutImage')] }, 'ImplicitDeny'],
  ['the account root user is allowed without any policy', { principal: root }, 'Allow'],
  ['the account root user is still subject to an explicit Deny', { principal: root, resourcePolicies: [repoPolicy('Deny', { AWS: ACCT }, pull)] }, 'ExplicitDeny'],
  ['a user named by ARN is denied by a repository-policy Deny naming the account', { identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Deny', { AWS: ACCT }, pull)] }, 'ExplicitDeny'],
]);

table('cross account: identity AND resource policy', [
  ['an identity Allow alone does not reach another account', { principal: bob, identity: [allow('ecr:*')] }, 'ImplicitDeny'],
  ['a repository policy alone does not let a user of another account in', { principal: bob, resourcePolicies: [repoPolicy('Allow', { AWS: bob.arn }, pull)] }, 'ImplicitDeny'],
  ['identity Allow plus a repository policy naming the user allows', { principal: bob, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: bob.arn }, pull)] }, 'Allow'],
  ['identity Allow plus a repository policy naming the user\'s account allows', { principal: bob, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: OTHER }, pull)] }, 'Allow'],
  ['a repository policy naming a different account does not allow', { principal: bob, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: '999988887777' }, pull)] }, 'ImplicitDeny'],
  ['Principal "*" still needs the caller\'s identity Allow across accounts', { principal: bob, resourcePolicies: [repoPolicy('Allow', '*', pull)] }, 'ImplicitDeny'],
  ['the other account\'s root needs only the repository policy', { principal: otherRoot, resourcePolicies: [repoPolicy('Allow', { AWS: OTHER }, pull)] }, 'Allow'],
  ['the other account\'s root is not allowed without a repository policy', { principal: otherRoot }, 'ImplicitDeny'],
  ['a role session is matched by its role ARN (with a path)', { principal: session, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: `arn:aws:iam::${OTHER}:role/build/ci` }, pull)] }, 'Allow'],
  ['a role session is matched by its own session ARN', { principal: session, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: session.arn }, pull)] }, 'Allow'],
  ['another role does not match the session', { principal: session, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: `arn:aws:iam::${OTHER}:role/deploy` }, pull)] }, 'ImplicitDeny'],
]);

table('anonymous callers', [
  ['Principal "*" allows an anonymous pull', { principal: anonymous, resourcePolicies: [repoPolicy('Allow', '*', pull)] }, 'Allow'],
  ['{"AWS": "*"} allows an anonymous pull', { principal: anonymous, resourcePolicies: [repoPolicy('Allow', { AWS: '*' }, pull)] }, 'Allow'],
  ['a policy naming an account does not allow anonymous callers', { principal: anonymous, resourcePolicies: [repoPolicy('Allow', { AWS: ACCT }, pull)] }, 'ImplicitDeny'],
  ['identity policies never apply to anonymous callers', { principal: anonymous, identity: [allow('*')] }, 'ImplicitDeny'],
  ['Principal "*" for pull does not allow an anonymous push', { principal: anonymous, action: 'ecr:PutImage', resourcePolicies: [repoPolicy('Allow', '*', pull)] }, 'ImplicitDeny'],
  ['an Allow with NotPrincipal never allows anonymous callers', { principal: anonymous, resourcePolicies: [repoPolicy('Allow', undefined, pull, { Principal: undefined, NotPrincipal: { AWS: bob.arn } })] }, 'ImplicitDeny'],
  ['a Deny with NotPrincipal applies to anonymous callers', { principal: anonymous, resourcePolicies: [repoPolicy('Allow', '*', pull), repoPolicy('Deny', undefined, pull, { Sid: 'D', Principal: undefined, NotPrincipal: { AWS: ACCT } })] }, 'ExplicitDeny'],
  ['a Deny with Principal "*" denies anonymous callers', { principal: anonymous, resourcePolicies: [repoPolicy('Allow', '*', pull), repoPolicy('Deny', '*', pull, { Sid: 'D' })] }, 'ExplicitDeny'],
]);

const notPrincipalDeny = (entries: string[]) => repoPolicy('Deny', undefined, 'ecr:*', { Sid: 'D', Principal: undefined, NotPrincipal: { AWS: entries } });
table('NotPrincipal', [
  ['a Deny with NotPrincipal denies callers not listed', { identity: [allow('ecr:*')], resourcePolicies: [notPrincipalDeny([bob.arn, `arn:aws:iam::${OTHER}:root`])] }, 'ExplicitDeny'],
  ['a Deny with NotPrincipal spares a user listed with its account', { principal: bob, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: OTHER }, 'ecr:*'), notPrincipalDeny([bob.arn, `arn:aws:iam::${OTHER}:root`])] }, 'Allow'],
  ['listing a user without its account does not spare it (AWS checks the whole chain)', { principal: bob, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: OTHER }, 'ecr:*'), notPrincipalDeny([bob.arn])] }, 'ExplicitDeny'],
  ['a session is spared only when account, role and session are all listed', { principal: session, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: OTHER }, 'ecr:*'), notPrincipalDeny([OTHER, `arn:aws:iam::${OTHER}:role/ci`, session.arn])] }, 'Allow'],
  ['a session listed without its role is still denied', { principal: session, identity: [allow('ecr:*')], resourcePolicies: [repoPolicy('Allow', { AWS: OTHER }, 'ecr:*'), notPrincipalDeny([OTHER, session.arn])] }, 'ExplicitDeny'],
  ['the root user is spared by listing its account', { principal: root, resourcePolicies: [notPrincipalDeny([ACCT])] }, 'Allow'],
  ['an Allow with NotPrincipal allows callers not listed', { resourcePolicies: [repoPolicy('Allow', undefined, pull, { Principal: undefined, NotPrincipal: { AWS: bob.arn } })] }, 'Allow'],
]);

table('service principals', [
  ['{"Service": …} allows a caller acting as that service', { principal: { arn: 'replication.ecr.amazonaws.com', account: ACCT }, resourcePolicies: [repoPolicy('Allow', { Service: 'replication.ecr.amazonaws.com' }, pull)] }, 'Allow'],
  ['{"Service": …} does not match a user', { resourcePolicies: [repoPolicy('Allow', { Service: 'replication.ecr.amazonaws.com' }, pull)] }, 'ImplicitDeny'],
]);

describe('evaluation result', () => {
  it('lists every statement that applied and names the deciding Deny in the reason', () => {
    const idp = policy({ Version: '2012-10-17', Statement: [{ Sid: 'All', Effect: 'Allow', Action: 'ecr:*', Resource: '*' }, { Sid: 'Push', Effect: 'Allow', Action: 'ecr:PutImage', Resource: '*' }] });
    const r = ask({ identity: [idp], resourcePolicies: [repoPolicy('Deny', { AWS: aliceArn }, pull)] });
    assert.equal(r.decision, 'ExplicitDeny');
    assert.deepEqual(r.matchedStatements, [
      { source: 'identity', policyIndex: 0, statementIndex: 0, sid: 'All', effect: 'Allow' },
      { source: 'resource', policyIndex: 0, statementIndex: 0, sid: 'DenyIt', effect: 'Deny' },
    ]);
    assert.match(r.reason, /resource policy #0 statement "DenyIt"/);
  });
  it('explains which side is missing for a cross-account implicit deny', () => {
    const r = ask({ principal: bob, identity: [allow('ecr:*')] });
    assert.match(r.reason, /no resource policy allows it/);
  });
  it('explains a delegation that lacks an identity Allow', () => {
    assert.match(ask({ resourcePolicies: [repoPolicy('Allow', { AWS: ACCT }, pull)] }).reason, /delegates/);
  });
});
