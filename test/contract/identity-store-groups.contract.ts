/** IdentityStore contract: groups, membership, inline policies and the effective policy set. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACCOUNT, arnOf, AWS_READONLY, doc, group, groupOwner, names, OTHER_ACCOUNT, policy, rejectsWith, signal, user, userOwner,
  type StoreRef,
} from './identity-store-helpers.js';

export function groupContract(store: StoreRef): void {
  describe('groups', () => {
    it('createGroup returns the group as given and getGroup finds it under any case of the name', async () => {
      const g = group('Admins', { path: '/ops/' });
      assert.deepEqual(await store().createGroup(g, signal), g);
      assert.deepEqual(await store().getGroup(ACCOUNT, 'admins', signal), g);
      assert.equal(await store().getGroup(OTHER_ACCOUNT, 'admins', signal), undefined);
      assert.equal(await store().getGroup(ACCOUNT, 'nope', signal), undefined);
    });

    it('createGroup rejects a name taken ignoring case or a group id in use with EntityAlreadyExists', async () => {
      const g = await store().createGroup(group('Admins'), signal);
      await rejectsWith(store().createGroup(group('ADMINS'), signal), 'EntityAlreadyExists');
      await rejectsWith(store().createGroup(group('other', { groupId: g.groupId }), signal), 'EntityAlreadyExists');
    });

    it('createGroup throws NoSuchEntity for an unknown account', async () => {
      await rejectsWith(store().createGroup(group('g', { accountId: '000000000000' }), signal), 'NoSuchEntity');
    });

    it('listGroups orders by name ignoring case and honours marker, maxItems and pathPrefix', async () => {
      await store().createGroup(group('beta', { path: '/x/' }), signal);
      await store().createGroup(group('Alpha'), signal);
      await store().createGroup(group('Gamma', { path: '/x/y/' }), signal);
      await store().createGroup(group('delta', { accountId: OTHER_ACCOUNT }), signal);
      assert.deepEqual(names(await store().listGroups(ACCOUNT, { maxItems: 10 }, signal)), ['Alpha', 'beta', 'Gamma']);
      assert.deepEqual(names(await store().listGroups(ACCOUNT, { maxItems: 1, marker: 'ALPHA' }, signal)), ['beta']);
      assert.deepEqual(names(await store().listGroups(ACCOUNT, { maxItems: 10, pathPrefix: '/x/' }, signal)), ['beta', 'Gamma']);
      assert.deepEqual(names(await store().listGroups(ACCOUNT, { maxItems: 10, pathPrefix: '/x/', marker: 'beta' }, signal)), ['Gamma']);
    });

    it('deleteGroup removes the group and frees its name; unknown groups throw NoSuchEntity', async () => {
      await store().createGroup(group('g'), signal);
      await store().deleteGroup(ACCOUNT, 'G', signal);
      assert.equal(await store().getGroup(ACCOUNT, 'g', signal), undefined);
      await store().createGroup(group('G'), signal);
      await rejectsWith(store().deleteGroup(ACCOUNT, 'ghost', signal), 'NoSuchEntity');
    });

    it('deleteGroup throws DeleteConflict while the group has members, inline or attached policies', async () => {
      await store().createGroup(group('g'), signal);
      await store().createUser(user('u'), signal);
      await store().addUserToGroup(ACCOUNT, 'g', 'u', signal);
      await rejectsWith(store().deleteGroup(ACCOUNT, 'g', signal), 'DeleteConflict');
      await store().removeUserFromGroup(ACCOUNT, 'g', 'u', signal);
      await store().putInlinePolicy(groupOwner('g'), 'p', doc('x'), signal);
      await rejectsWith(store().deleteGroup(ACCOUNT, 'g', signal), 'DeleteConflict');
      await store().deleteInlinePolicy(groupOwner('g'), 'p', signal);
      await store().attachPolicy(groupOwner('g'), AWS_READONLY, signal);
      await rejectsWith(store().deleteGroup(ACCOUNT, 'g', signal), 'DeleteConflict');
      await store().detachPolicy(groupOwner('g'), AWS_READONLY, signal);
      await store().deleteGroup(ACCOUNT, 'g', signal);
    });
  });

  describe('group membership', () => {
    it('addUserToGroup is idempotent and both directions list in name order, as created', async () => {
      for (const n of ['Carol', 'alice', 'Bob']) await store().createUser(user(n), signal);
      for (const n of ['ops', 'Dev']) await store().createGroup(group(n), signal);
      for (const u of ['carol', 'ALICE', 'bob', 'alice']) await store().addUserToGroup(ACCOUNT, 'DEV', u, signal);
      await store().addUserToGroup(ACCOUNT, 'ops', 'alice', signal);
      assert.deepEqual(names(await store().listGroupMembers(ACCOUNT, 'dev', signal)), ['alice', 'Bob', 'Carol']);
      assert.deepEqual(await store().listGroupMembers(ACCOUNT, 'dev', signal), [
        await store().getUser(ACCOUNT, 'alice', signal), await store().getUser(ACCOUNT, 'bob', signal),
        await store().getUser(ACCOUNT, 'carol', signal),
      ]);
      assert.deepEqual(names(await store().listGroupsForUser(ACCOUNT, 'Alice', signal)), ['Dev', 'ops']);
      assert.deepEqual(names(await store().listGroupsForUser(ACCOUNT, 'bob', signal)), ['Dev']);
    });

    it('removeUserFromGroup removes the membership and is a no-op for a user who is not a member', async () => {
      await store().createUser(user('u'), signal);
      await store().createUser(user('v'), signal);
      await store().createGroup(group('g'), signal);
      await store().addUserToGroup(ACCOUNT, 'g', 'u', signal);
      await store().removeUserFromGroup(ACCOUNT, 'G', 'U', signal);
      await store().removeUserFromGroup(ACCOUNT, 'g', 'v', signal);
      assert.deepEqual(await store().listGroupMembers(ACCOUNT, 'g', signal), []);
      assert.deepEqual(await store().listGroupsForUser(ACCOUNT, 'u', signal), []);
    });

    it('membership calls throw NoSuchEntity for an unknown user or group', async () => {
      await store().createUser(user('u'), signal);
      await store().createGroup(group('g'), signal);
      await rejectsWith(store().addUserToGroup(ACCOUNT, 'ghost', 'u', signal), 'NoSuchEntity');
      await rejectsWith(store().addUserToGroup(ACCOUNT, 'g', 'ghost', signal), 'NoSuchEntity');
      await rejectsWith(store().removeUserFromGroup(ACCOUNT, 'ghost', 'u', signal), 'NoSuchEntity');
      await rejectsWith(store().removeUserFromGroup(ACCOUNT, 'g', 'ghost', signal), 'NoSuchEntity');
      await rejectsWith(store().listGroupMembers(ACCOUNT, 'ghost', signal), 'NoSuchEntity');
      await rejectsWith(store().listGroupsForUser(ACCOUNT, 'ghost', signal), 'NoSuchEntity');
      await rejectsWith(store().addUserToGroup(OTHER_ACCOUNT, 'g', 'u', signal), 'NoSuchEntity');
    });
  });

  describe('inline policies', () => {
    it('putInlinePolicy creates or replaces a user\'s or group\'s policy, found under any case of the owner name', async () => {
      await store().createUser(user('Alice'), signal);
      await store().createGroup(group('Dev'), signal);
      await store().putInlinePolicy(userOwner('alice'), 'p', doc('one'), signal);
      await store().putInlinePolicy(userOwner('ALICE'), 'p', doc('two'), signal);
      await store().putInlinePolicy(groupOwner('dev'), 'p', doc('group'), signal);
      assert.equal(await store().getInlinePolicy(userOwner('Alice'), 'p', signal), doc('two'));
      assert.equal(await store().getInlinePolicy(groupOwner('DEV'), 'p', signal), doc('group'));
    });

    it('listInlinePolicies lists the owner\'s policy names in order; names are case-sensitive', async () => {
      await store().createUser(user('u'), signal);
      await store().createUser(user('v'), signal);
      for (const n of ['b', 'a', 'B']) await store().putInlinePolicy(userOwner('u'), n, doc(n), signal);
      await store().putInlinePolicy(userOwner('v'), 'other', doc('v'), signal);
      assert.deepEqual(await store().listInlinePolicies(userOwner('U'), signal), ['B', 'a', 'b']);
      assert.equal(await store().getInlinePolicy(userOwner('u'), 'B', signal), doc('B'));
    });

    it('getInlinePolicy returns undefined for an unknown policy or owner', async () => {
      await store().createUser(user('u'), signal);
      assert.equal(await store().getInlinePolicy(userOwner('u'), 'nope', signal), undefined);
      assert.equal(await store().getInlinePolicy(userOwner('ghost'), 'p', signal), undefined);
      assert.equal(await store().getInlinePolicy(groupOwner('u'), 'p', signal), undefined);
    });

    it('deleteInlinePolicy removes the policy and throws NoSuchEntity when it is not there', async () => {
      await store().createUser(user('u'), signal);
      await store().putInlinePolicy(userOwner('u'), 'p', doc('x'), signal);
      await store().deleteInlinePolicy(userOwner('u'), 'p', signal);
      assert.deepEqual(await store().listInlinePolicies(userOwner('u'), signal), []);
      await rejectsWith(store().deleteInlinePolicy(userOwner('u'), 'p', signal), 'NoSuchEntity');
    });

    it('inline policy writes and lists throw NoSuchEntity for an unknown owner', async () => {
      await store().createUser(user('u'), signal);
      await rejectsWith(store().putInlinePolicy(userOwner('ghost'), 'p', doc('x'), signal), 'NoSuchEntity');
      await rejectsWith(store().putInlinePolicy(groupOwner('u'), 'p', doc('x'), signal), 'NoSuchEntity');
      await rejectsWith(store().putInlinePolicy(userOwner('u', OTHER_ACCOUNT), 'p', doc('x'), signal), 'NoSuchEntity');
      await rejectsWith(store().listInlinePolicies(groupOwner('ghost'), signal), 'NoSuchEntity');
      await rejectsWith(store().deleteInlinePolicy(userOwner('ghost'), 'p', signal), 'NoSuchEntity');
    });
  });

  describe('effective policies', () => {
    it('effectivePolicies gathers the user\'s and its groups\' inline documents and attached ARNs, deduplicated', async () => {
      await store().createUser(user('u'), signal);
      await store().createUser(user('other'), signal);
      await store().createGroup(group('b-group'), signal);
      await store().createGroup(group('A-group'), signal);
      await store().createGroup(group('unrelated'), signal);
      for (const g of ['b-group', 'A-group']) await store().addUserToGroup(ACCOUNT, g, 'u', signal);
      const p = await store().createPolicy(policy('Custom'), doc('custom'), signal);
      await store().putInlinePolicy(userOwner('u'), 'mine', doc('user'), signal);
      await store().putInlinePolicy(groupOwner('A-group'), 'ga', doc('group-a'), signal);
      await store().putInlinePolicy(groupOwner('b-group'), 'gb', doc('group-b'), signal);
      await store().putInlinePolicy(groupOwner('unrelated'), 'x', doc('unrelated'), signal);
      await store().putInlinePolicy(userOwner('other'), 'x', doc('other'), signal);
      await store().attachPolicy(userOwner('u'), arnOf(p), signal);
      await store().attachPolicy(groupOwner('A-group'), AWS_READONLY, signal);
      await store().attachPolicy(groupOwner('b-group'), arnOf(p), signal);
      await store().attachPolicy(groupOwner('unrelated'), 'arn:aws:iam::aws:policy/Unrelated', signal);
      assert.deepEqual(await store().effectivePolicies(ACCOUNT, 'U', signal), {
        inline: [doc('user'), doc('group-a'), doc('group-b')],
        attached: [arnOf(p), AWS_READONLY],
      });
    });

    it('effectivePolicies is empty for a user with no policies and throws NoSuchEntity for an unknown user', async () => {
      await store().createUser(user('u'), signal);
      assert.deepEqual(await store().effectivePolicies(ACCOUNT, 'u', signal), { inline: [], attached: [] });
      await rejectsWith(store().effectivePolicies(ACCOUNT, 'ghost', signal), 'NoSuchEntity');
    });
  });
}
