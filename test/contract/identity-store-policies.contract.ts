/** IdentityStore contract: customer managed policies, their versions and attachments. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ACCOUNT, arnOf, AWS_READONLY, doc, group, groupOwner, names, OTHER_ACCOUNT, policy, rejectsWith, signal, user, userOwner,
  type StoreRef,
} from './identity-store-helpers.js';

export function policyContract(store: StoreRef): void {
  const create = async (name: string, extra = {}) => {
    const p = await store().createPolicy(policy(name, extra), doc(name), signal);
    return { p, arn: arnOf(p) };
  };
  const versionIds = async (arn: string) => (await store().listPolicyVersions(arn, signal)).map((v) => v.versionId);

  describe('managed policies', () => {
    it('createPolicy stores the policy with v1 as default and no attachments, whatever the input said', async () => {
      const input = policy('Read', { path: '/team/', description: 'reads', defaultVersionId: 'v9', attachmentCount: 4 });
      const created = await store().createPolicy(input, doc('read'), signal);
      assert.deepEqual(created, { ...input, defaultVersionId: 'v1', attachmentCount: 0 });
      assert.deepEqual(await store().getPolicy(`arn:aws:iam::${ACCOUNT}:policy/team/Read`, signal), created);
      assert.deepEqual(await store().listPolicyVersions(arnOf(input), signal),
        [{ versionId: 'v1', document: doc('read'), isDefaultVersion: true, createdAt: input.createdAt }]);
      assert.equal(await store().defaultPolicyDocument(arnOf(input), signal), doc('read'));
    });

    it('a policy without a description is returned without one', async () => {
      const { p, arn } = await create('Plain');
      assert.equal('description' in p, false);
      assert.equal('description' in (await store().getPolicy(arn, signal))!, false);
    });

    it('createPolicy rejects a name taken in the account ignoring case, whatever the path, or a policy id in use', async () => {
      const { p } = await create('Read');
      await rejectsWith(store().createPolicy(policy('READ', { path: '/other/' }), doc('x'), signal), 'EntityAlreadyExists');
      await rejectsWith(store().createPolicy(policy('Else', { policyId: p.policyId }), doc('x'), signal), 'EntityAlreadyExists');
      await store().createPolicy(policy('read', { accountId: OTHER_ACCOUNT }), doc('x'), signal);
    });

    it('createPolicy throws NoSuchEntity for an unknown account', async () => {
      await rejectsWith(store().createPolicy(policy('p', { accountId: '000000000000' }), doc('x'), signal), 'NoSuchEntity');
    });

    it('getPolicy and defaultPolicyDocument return undefined for an unknown or AWS managed ARN', async () => {
      assert.equal(await store().getPolicy(`arn:aws:iam::${ACCOUNT}:policy/nope`, signal), undefined);
      assert.equal(await store().defaultPolicyDocument(`arn:aws:iam::${ACCOUNT}:policy/nope`, signal), undefined);
      assert.equal(await store().defaultPolicyDocument(AWS_READONLY, signal), undefined);
    });

    it('listPolicies orders by name ignoring case and honours marker, maxItems, pathPrefix and onlyAttached', async () => {
      await create('beta', { path: '/x/' });
      const { arn: alpha } = await create('Alpha');
      const { arn: gamma } = await create('Gamma', { path: '/x/y/' });
      await create('delta', { accountId: OTHER_ACCOUNT });
      await store().createUser(user('u'), signal);
      await store().attachPolicy(userOwner('u'), alpha, signal);
      await store().attachPolicy(userOwner('u'), gamma, signal);
      const list = (page: Parameters<ReturnType<StoreRef>['listPolicies']>[1]) => store().listPolicies(ACCOUNT, page, signal).then(names);
      assert.deepEqual(await list({ maxItems: 10 }), ['Alpha', 'beta', 'Gamma']);
      assert.deepEqual(await list({ maxItems: 1, marker: 'alpha' }), ['beta']);
      assert.deepEqual(await list({ maxItems: 10, pathPrefix: '/x/' }), ['beta', 'Gamma']);
      assert.deepEqual(await list({ maxItems: 10, onlyAttached: true }), ['Alpha', 'Gamma']);
      assert.deepEqual(await list({ maxItems: 10, onlyAttached: true, pathPrefix: '/x', marker: 'BETA' }), ['Gamma']);
      assert.deepEqual(names(await store().listPolicies(OTHER_ACCOUNT, { maxItems: 10 }, signal)), ['delta']);
    });

    it('deletePolicy removes the policy and its versions and frees its name', async () => {
      const { arn } = await create('P');
      await store().deletePolicy(arn, signal);
      assert.equal(await store().getPolicy(arn, signal), undefined);
      assert.equal(await store().defaultPolicyDocument(arn, signal), undefined);
      await rejectsWith(store().listPolicyVersions(arn, signal), 'NoSuchEntity');
      const again = await create('p');
      assert.deepEqual(await versionIds(again.arn), ['v1']);
    });

    it('deletePolicy throws NoSuchEntity for an unknown policy and DeleteConflict while attached', async () => {
      await rejectsWith(store().deletePolicy(`arn:aws:iam::${ACCOUNT}:policy/nope`, signal), 'NoSuchEntity');
      const { arn } = await create('P');
      await store().createGroup(group('g'), signal);
      await store().attachPolicy(groupOwner('g'), arn, signal);
      await rejectsWith(store().deletePolicy(arn, signal), 'DeleteConflict');
      await store().detachPolicy(groupOwner('g'), arn, signal);
      await store().deletePolicy(arn, signal);
    });

    it('deletePolicy throws DeleteConflict while the policy has versions besides the default', async () => {
      const { arn } = await create('P');
      await store().createPolicyVersion(arn, doc('v2'), false, signal);
      await rejectsWith(store().deletePolicy(arn, signal), 'DeleteConflict');
      await store().deletePolicyVersion(arn, 'v2', signal);
      await store().deletePolicy(arn, signal);
    });
  });

  describe('policy versions', () => {
    it('createPolicyVersion adds v2, v3, … and makes one default only when asked', async () => {
      const { arn, p } = await create('P');
      await sleep(2);
      const v2 = await store().createPolicyVersion(arn, doc('two'), false, signal);
      assert.deepEqual({ ...v2, createdAt: undefined }, { versionId: 'v2', document: doc('two'), isDefaultVersion: false, createdAt: undefined });
      const after = (await store().getPolicy(arn, signal))!;
      assert.equal(after.defaultVersionId, 'v1');
      assert.ok(after.updatedAt.getTime() > p.updatedAt.getTime(), 'a new version moves updatedAt');
      const v3 = await store().createPolicyVersion(arn, doc('three'), true, signal);
      assert.equal(v3.versionId, 'v3');
      assert.equal(v3.isDefaultVersion, true);
      assert.equal((await store().getPolicy(arn, signal))?.defaultVersionId, 'v3');
      assert.equal(await store().defaultPolicyDocument(arn, signal), doc('three'));
      assert.deepEqual(await store().getPolicyVersion(arn, 'v2', signal), v2);
      assert.equal((await store().getPolicyVersion(arn, 'v1', signal))?.isDefaultVersion, false);
    });

    it('createPolicyVersion rejects a sixth version with LimitExceeded', async () => {
      const { arn } = await create('P');
      for (let i = 2; i <= 5; i++) await store().createPolicyVersion(arn, doc(`v${i}`), false, signal);
      await rejectsWith(store().createPolicyVersion(arn, doc('v6'), true, signal), 'LimitExceeded');
      assert.deepEqual(await versionIds(arn), ['v1', 'v2', 'v3', 'v4', 'v5']);
      assert.equal((await store().getPolicy(arn, signal))?.defaultVersionId, 'v1');
    });

    it('version numbers are never reused after a delete, and versions list in number order past v9', async () => {
      const { arn } = await create('P');
      for (let i = 2; i <= 5; i++) await store().createPolicyVersion(arn, doc(`v${i}`), false, signal);
      await store().deletePolicyVersion(arn, 'v5', signal);
      assert.equal((await store().createPolicyVersion(arn, doc('v6'), false, signal)).versionId, 'v6');
      for (const v of ['v2', 'v3', 'v4']) await store().deletePolicyVersion(arn, v, signal);
      for (let i = 7; i <= 9; i++) await store().createPolicyVersion(arn, doc(`v${i}`), false, signal);
      await store().deletePolicyVersion(arn, 'v7', signal);
      await store().createPolicyVersion(arn, doc('v10'), false, signal);
      assert.deepEqual(await versionIds(arn), ['v1', 'v6', 'v8', 'v9', 'v10']);
    });

    it('getPolicyVersion returns undefined for an unknown version or policy', async () => {
      const { arn } = await create('P');
      assert.equal(await store().getPolicyVersion(arn, 'v2', signal), undefined);
      assert.equal(await store().getPolicyVersion(`arn:aws:iam::${ACCOUNT}:policy/nope`, 'v1', signal), undefined);
    });

    it('setDefaultPolicyVersion switches the default version and its document', async () => {
      const { arn } = await create('P');
      await store().createPolicyVersion(arn, doc('two'), false, signal);
      await store().setDefaultPolicyVersion(arn, 'v2', signal);
      assert.equal((await store().getPolicy(arn, signal))?.defaultVersionId, 'v2');
      assert.equal(await store().defaultPolicyDocument(arn, signal), doc('two'));
      assert.deepEqual((await store().listPolicyVersions(arn, signal)).map((v) => v.isDefaultVersion), [false, true]);
      await store().deletePolicyVersion(arn, 'v1', signal);
      assert.deepEqual(await versionIds(arn), ['v2']);
    });

    it('version calls throw NoSuchEntity for an unknown policy or version', async () => {
      const { arn } = await create('P');
      const nope = `arn:aws:iam::${ACCOUNT}:policy/nope`;
      await rejectsWith(store().createPolicyVersion(nope, doc('x'), false, signal), 'NoSuchEntity');
      await rejectsWith(store().listPolicyVersions(nope, signal), 'NoSuchEntity');
      await rejectsWith(store().setDefaultPolicyVersion(nope, 'v1', signal), 'NoSuchEntity');
      await rejectsWith(store().setDefaultPolicyVersion(arn, 'v2', signal), 'NoSuchEntity');
      await rejectsWith(store().deletePolicyVersion(nope, 'v1', signal), 'NoSuchEntity');
      await rejectsWith(store().deletePolicyVersion(arn, 'v2', signal), 'NoSuchEntity');
    });

    it('deletePolicyVersion throws DeleteConflict for the default version', async () => {
      const { arn } = await create('P');
      await rejectsWith(store().deletePolicyVersion(arn, 'v1', signal), 'DeleteConflict');
      assert.deepEqual(await versionIds(arn), ['v1']);
    });
  });

  describe('policy attachments', () => {
    it('attachPolicy is idempotent and counts each customer policy attachment once; detachPolicy counts down', async () => {
      const { arn } = await create('P');
      await store().createUser(user('Alice'), signal);
      await store().createGroup(group('Dev'), signal);
      await store().attachPolicy(userOwner('alice'), arn, signal);
      await store().attachPolicy(userOwner('ALICE'), arn, signal);
      await store().attachPolicy(groupOwner('dev'), arn, signal);
      assert.equal((await store().getPolicy(arn, signal))?.attachmentCount, 2);
      await store().detachPolicy(userOwner('Alice'), arn, signal);
      assert.equal((await store().getPolicy(arn, signal))?.attachmentCount, 1);
      await store().detachPolicy(groupOwner('Dev'), arn, signal);
      assert.equal((await store().getPolicy(arn, signal))?.attachmentCount, 0);
    });

    it('attachPolicy accepts AWS managed ARNs and listAttachedPolicies lists ARNs in byte order', async () => {
      const { arn } = await create('P');
      await store().createUser(user('u'), signal);
      await store().attachPolicy(userOwner('u'), AWS_READONLY, signal);
      await store().attachPolicy(userOwner('u'), arn, signal);
      assert.deepEqual(await store().listAttachedPolicies(userOwner('U'), signal), [arn, AWS_READONLY]);
      await store().detachPolicy(userOwner('u'), AWS_READONLY, signal);
      assert.deepEqual(await store().listAttachedPolicies(userOwner('u'), signal), [arn]);
    });

    it('attachPolicy throws NoSuchEntity for an unknown owner, an unknown customer policy or another account\'s policy', async () => {
      const { arn } = await create('P');
      const { arn: foreign } = await create('F', { accountId: OTHER_ACCOUNT });
      await store().createUser(user('u'), signal);
      await rejectsWith(store().attachPolicy(userOwner('ghost'), arn, signal), 'NoSuchEntity');
      await rejectsWith(store().attachPolicy(groupOwner('u'), arn, signal), 'NoSuchEntity');
      await rejectsWith(store().attachPolicy(userOwner('u'), `arn:aws:iam::${ACCOUNT}:policy/nope`, signal), 'NoSuchEntity');
      await rejectsWith(store().attachPolicy(userOwner('u'), foreign, signal), 'NoSuchEntity');
      assert.deepEqual(await store().listAttachedPolicies(userOwner('u'), signal), []);
      assert.equal((await store().getPolicy(foreign, signal))?.attachmentCount, 0);
    });

    it('detachPolicy throws NoSuchEntity when not attached or for an unknown owner', async () => {
      const { arn } = await create('P');
      await store().createUser(user('u'), signal);
      await rejectsWith(store().detachPolicy(userOwner('u'), arn, signal), 'NoSuchEntity');
      await rejectsWith(store().detachPolicy(userOwner('ghost'), arn, signal), 'NoSuchEntity');
      await rejectsWith(store().listAttachedPolicies(groupOwner('ghost'), signal), 'NoSuchEntity');
      assert.equal((await store().getPolicy(arn, signal))?.attachmentCount, 0);
    });
  });
}
