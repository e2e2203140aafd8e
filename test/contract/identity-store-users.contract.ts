/** IdentityStore contract: accounts, users and user tags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ACCOUNT, AWS_READONLY, doc, group, key, names, OTHER_ACCOUNT, rejectsWith, signal, user, userOwner, type StoreRef,
} from './identity-store-helpers.js';

export function userContract(store: StoreRef): void {
  describe('accounts', () => {
    it('ensureAccount creates an account once and later calls return the original createdAt', async () => {
      const first = await store().ensureAccount('999988887777', signal);
      await sleep(3);
      const again = await store().ensureAccount('999988887777', signal);
      assert.deepEqual(again, first);
      assert.deepEqual(await store().getAccount('999988887777', signal), first);
    });

    it('getAccount returns undefined for an unknown account', async () => {
      assert.equal(await store().getAccount('000000000000', signal), undefined);
    });
  });

  describe('users', () => {
    it('createUser returns the user as given and getUser finds it under any case of the name', async () => {
      const u = user('Alice', { path: '/eng/', tags: [{ Key: 'team', Value: 'a' }] });
      assert.deepEqual(await store().createUser(u, signal), u);
      assert.deepEqual(await store().getUser(ACCOUNT, 'alice', signal), u);
      assert.deepEqual(await store().getUser(ACCOUNT, 'ALICE', signal), u);
    });

    it('createUser rejects a name already taken in the account ignoring case, but not in another account', async () => {
      await store().createUser(user('Alice'), signal);
      await rejectsWith(store().createUser(user('aLiCe'), signal), 'EntityAlreadyExists');
      await store().createUser(user('alice', { accountId: OTHER_ACCOUNT }), signal);
      assert.equal((await store().getUser(ACCOUNT, 'alice', signal))?.userName, 'Alice');
      assert.equal((await store().getUser(OTHER_ACCOUNT, 'ALICE', signal))?.userName, 'alice');
    });

    it('createUser rejects a user id already in use with EntityAlreadyExists', async () => {
      const a = await store().createUser(user('a'), signal);
      await rejectsWith(store().createUser(user('b', { userId: a.userId }), signal), 'EntityAlreadyExists');
      assert.equal(await store().getUser(ACCOUNT, 'b', signal), undefined);
    });

    it('createUser throws NoSuchEntity for an unknown account', async () => {
      await rejectsWith(store().createUser(user('a', { accountId: '000000000000' }), signal), 'NoSuchEntity');
    });

    it('createUser accepts 50 tags and rejects 51 with LimitExceeded', async () => {
      const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      assert.equal((await store().createUser(user('fifty', { tags: tags(50) }), signal)).tags.length, 50);
      await rejectsWith(store().createUser(user('many', { tags: tags(51) }), signal), 'LimitExceeded');
      assert.equal(await store().getUser(ACCOUNT, 'many', signal), undefined);
    });

    it('getUser returns undefined for an unknown user or account', async () => {
      await store().createUser(user('a'), signal);
      assert.equal(await store().getUser(ACCOUNT, 'b', signal), undefined);
      assert.equal(await store().getUser(OTHER_ACCOUNT, 'a', signal), undefined);
      assert.equal(await store().getUser('000000000000', 'a', signal), undefined);
    });

    it('listUsers orders by name ignoring case and pages strictly after the marker (any case)', async () => {
      for (const n of ['carol', 'Bob', 'alice', 'Dave', 'erin']) await store().createUser(user(n), signal);
      await store().createUser(user('zed', { accountId: OTHER_ACCOUNT }), signal);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 100 }, signal)), ['alice', 'Bob', 'carol', 'Dave', 'erin']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 2 }, signal)), ['alice', 'Bob']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 2, marker: 'bob' }, signal)), ['carol', 'Dave']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 2, marker: 'DAVE' }, signal)), ['erin']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 2, marker: 'erin' }, signal)), []);
      assert.deepEqual(await store().listUsers(ACCOUNT, { maxItems: 0 }, signal), []);
      assert.deepEqual(await store().listUsers('000000000000', { maxItems: 10 }, signal), []);
    });

    it('listUsers keeps only users whose path starts with pathPrefix, taking % and _ literally', async () => {
      await store().createUser(user('a', { path: '/eng/' }), signal);
      await store().createUser(user('b', { path: '/eng/build/' }), signal);
      await store().createUser(user('c', { path: '/engineering/' }), signal);
      await store().createUser(user('d', { path: '/' }), signal);
      await store().createUser(user('e', { path: '/e_g/' }), signal);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 10, pathPrefix: '/eng/' }, signal)), ['a', 'b']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 10, pathPrefix: '/' }, signal)), ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 10, pathPrefix: '/e_' }, signal)), ['e']);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 10, pathPrefix: '/e%' }, signal)), []);
      assert.deepEqual(names(await store().listUsers(ACCOUNT, { maxItems: 1, marker: 'a', pathPrefix: '/eng' }, signal)), ['b']);
    });

    it('deleteUser removes the user and frees its name and id', async () => {
      const u = await store().createUser(user('Alice'), signal);
      await store().deleteUser(ACCOUNT, 'alice', signal);
      assert.equal(await store().getUser(ACCOUNT, 'Alice', signal), undefined);
      assert.deepEqual(await store().listUsers(ACCOUNT, { maxItems: 10 }, signal), []);
      await store().createUser(user('ALICE', { userId: u.userId }), signal);
    });

    it('deleteUser throws NoSuchEntity for an unknown user', async () => {
      await rejectsWith(store().deleteUser(ACCOUNT, 'ghost', signal), 'NoSuchEntity');
    });

    it('deleteUser throws DeleteConflict while the user has an access key, and succeeds once it is gone', async () => {
      await store().createUser(user('a'), signal);
      const k = await store().createAccessKey(key('a'), signal);
      await rejectsWith(store().deleteUser(ACCOUNT, 'a', signal), 'DeleteConflict');
      await store().deleteAccessKey(ACCOUNT, 'a', k.accessKeyId, signal);
      await store().deleteUser(ACCOUNT, 'a', signal);
    });

    it('deleteUser throws DeleteConflict while the user has an inline policy', async () => {
      await store().createUser(user('a'), signal);
      await store().putInlinePolicy(userOwner('a'), 'p', doc('x'), signal);
      await rejectsWith(store().deleteUser(ACCOUNT, 'a', signal), 'DeleteConflict');
      await store().deleteInlinePolicy(userOwner('a'), 'p', signal);
      await store().deleteUser(ACCOUNT, 'a', signal);
    });

    it('deleteUser throws DeleteConflict while the user has an attached policy', async () => {
      await store().createUser(user('a'), signal);
      await store().attachPolicy(userOwner('a'), AWS_READONLY, signal);
      await rejectsWith(store().deleteUser(ACCOUNT, 'a', signal), 'DeleteConflict');
      await store().detachPolicy(userOwner('a'), AWS_READONLY, signal);
      await store().deleteUser(ACCOUNT, 'a', signal);
    });

    it('deleteUser throws DeleteConflict while the user is in a group', async () => {
      await store().createUser(user('a'), signal);
      await store().createGroup(group('g'), signal);
      await store().addUserToGroup(ACCOUNT, 'g', 'a', signal);
      await rejectsWith(store().deleteUser(ACCOUNT, 'a', signal), 'DeleteConflict');
      assert.ok(await store().getUser(ACCOUNT, 'a', signal));
      await store().removeUserFromGroup(ACCOUNT, 'g', 'a', signal);
      await store().deleteUser(ACCOUNT, 'a', signal);
    });
  });

  describe('user tags', () => {
    it('tagUser adds tags and replaces existing ones by key, keeping their position', async () => {
      await store().createUser(user('a', { tags: [{ Key: 'x', Value: '1' }, { Key: 'y', Value: '2' }] }), signal);
      await store().tagUser(ACCOUNT, 'A', [{ Key: 'x', Value: 'one' }, { Key: 'z', Value: '3' }], signal);
      assert.deepEqual((await store().getUser(ACCOUNT, 'a', signal))?.tags,
        [{ Key: 'x', Value: 'one' }, { Key: 'y', Value: '2' }, { Key: 'z', Value: '3' }]);
    });

    it('tagUser rejects going over 50 tags with LimitExceeded and changes nothing', async () => {
      const tags = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      await store().createUser(user('a', { tags }), signal);
      await store().tagUser(ACCOUNT, 'a', [{ Key: 'k0', Value: 'replaced' }, { Key: 'k49', Value: 'v' }], signal);
      await rejectsWith(store().tagUser(ACCOUNT, 'a', [{ Key: 'k50', Value: 'v' }], signal), 'LimitExceeded');
      const after = (await store().getUser(ACCOUNT, 'a', signal))?.tags;
      assert.equal(after?.length, 50);
      assert.deepEqual(after?.[0], { Key: 'k0', Value: 'replaced' });
    });

    it('untagUser removes the given keys and ignores keys that are not there', async () => {
      await store().createUser(user('a', { tags: [{ Key: 'x', Value: '1' }, { Key: 'y', Value: '2' }] }), signal);
      await store().untagUser(ACCOUNT, 'a', ['x', 'nope'], signal);
      assert.deepEqual((await store().getUser(ACCOUNT, 'a', signal))?.tags, [{ Key: 'y', Value: '2' }]);
    });

    it('tagUser and untagUser throw NoSuchEntity for an unknown user', async () => {
      await rejectsWith(store().tagUser(ACCOUNT, 'ghost', [{ Key: 'k', Value: 'v' }], signal), 'NoSuchEntity');
      await rejectsWith(store().untagUser(ACCOUNT, 'ghost', ['k'], signal), 'NoSuchEntity');
    });
  });
}
