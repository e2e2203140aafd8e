/** IdentityStore contract: access keys. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ACCOUNT, key, OTHER_ACCOUNT, rejectsWith, signal, user, type StoreRef } from './identity-store-helpers.js';

export function accessKeyContract(store: StoreRef): void {
  describe('access keys', () => {
    beforeEach(async () => {
      await store().createUser(user('Alice'), signal);
      await store().createUser(user('bob'), signal);
    });

    it('createAccessKey stores the key, returned with the user name as created and the secret bytes intact', async () => {
      const k = key('ALICE');
      const created = await store().createAccessKey(k, signal);
      assert.deepEqual(created, { ...k, userName: 'Alice' });
      assert.ok(created.secretCiphertext instanceof Uint8Array);
      assert.deepEqual(await store().getAccessKey(k.accessKeyId, signal), created);
    });

    it('createAccessKey stores a root key (userName null) and keeps a given lastUsedAt', async () => {
      const k = key(null, { lastUsedAt: new Date(Date.UTC(2024, 1, 1)), status: 'Inactive' });
      assert.deepEqual(await store().createAccessKey(k, signal), k);
      assert.deepEqual(await store().getAccessKey(k.accessKeyId, signal), k);
    });

    it('getAccessKey returns undefined for an unknown key id', async () => {
      assert.equal(await store().getAccessKey('AKIANOPE', signal), undefined);
    });

    it('createAccessKey rejects a third key of the same user with LimitExceeded, counting each user and the root apart', async () => {
      await store().createAccessKey(key('Alice'), signal);
      await store().createAccessKey(key('alice'), signal);
      await rejectsWith(store().createAccessKey(key('Alice'), signal), 'LimitExceeded');
      await store().createAccessKey(key('bob'), signal);
      await store().createAccessKey(key(null), signal);
      await store().createAccessKey(key(null), signal);
      await rejectsWith(store().createAccessKey(key(null), signal), 'LimitExceeded');
      await store().createAccessKey(key(null, { accountId: OTHER_ACCOUNT }), signal);
      assert.equal((await store().listAccessKeys(ACCOUNT, 'Alice', signal)).length, 2);
    });

    it('a deleted key frees its place under the quota', async () => {
      const k1 = await store().createAccessKey(key('Alice'), signal);
      await store().createAccessKey(key('Alice'), signal);
      await store().deleteAccessKey(ACCOUNT, 'Alice', k1.accessKeyId, signal);
      await store().createAccessKey(key('Alice'), signal);
    });

    it('createAccessKey throws NoSuchEntity for an unknown user or account', async () => {
      await rejectsWith(store().createAccessKey(key('ghost'), signal), 'NoSuchEntity');
      await rejectsWith(store().createAccessKey(key(null, { accountId: '000000000000' }), signal), 'NoSuchEntity');
      await rejectsWith(store().createAccessKey(key('Alice', { accountId: OTHER_ACCOUNT }), signal), 'NoSuchEntity');
    });

    it('createAccessKey rejects an access key id already in use with EntityAlreadyExists', async () => {
      const k = await store().createAccessKey(key('Alice'), signal);
      await rejectsWith(store().createAccessKey(key('bob', { accessKeyId: k.accessKeyId }), signal), 'EntityAlreadyExists');
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.userName, 'Alice');
    });

    it('listAccessKeys returns only that user\'s (or the root\'s) keys, oldest first', async () => {
      const a2 = await store().createAccessKey(key('Alice', { createdAt: new Date(Date.UTC(2024, 5, 2)) }), signal);
      const a1 = await store().createAccessKey(key('Alice', { createdAt: new Date(Date.UTC(2024, 5, 1)) }), signal);
      const b = await store().createAccessKey(key('bob'), signal);
      const r = await store().createAccessKey(key(null), signal);
      assert.deepEqual(await store().listAccessKeys(ACCOUNT, 'alice', signal), [a1, a2]);
      assert.deepEqual(await store().listAccessKeys(ACCOUNT, 'bob', signal), [b]);
      assert.deepEqual(await store().listAccessKeys(ACCOUNT, null, signal), [r]);
      assert.deepEqual(await store().listAccessKeys(OTHER_ACCOUNT, null, signal), []);
    });

    it('listAccessKeys throws NoSuchEntity for an unknown user', async () => {
      await rejectsWith(store().listAccessKeys(ACCOUNT, 'ghost', signal), 'NoSuchEntity');
    });

    it('updateAccessKeyStatus changes the status of the owner\'s key', async () => {
      const k = await store().createAccessKey(key('Alice'), signal);
      await store().updateAccessKeyStatus(ACCOUNT, 'ALICE', k.accessKeyId, 'Inactive', signal);
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.status, 'Inactive');
      await store().updateAccessKeyStatus(ACCOUNT, 'Alice', k.accessKeyId, 'Active', signal);
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.status, 'Active');
    });

    it('updateAccessKeyStatus throws NoSuchEntity for an unknown key or a key of another user, the root or account', async () => {
      const k = await store().createAccessKey(key('Alice'), signal);
      const r = await store().createAccessKey(key(null), signal);
      await rejectsWith(store().updateAccessKeyStatus(ACCOUNT, 'Alice', 'AKIANOPE', 'Inactive', signal), 'NoSuchEntity');
      await rejectsWith(store().updateAccessKeyStatus(ACCOUNT, 'bob', k.accessKeyId, 'Inactive', signal), 'NoSuchEntity');
      await rejectsWith(store().updateAccessKeyStatus(ACCOUNT, null, k.accessKeyId, 'Inactive', signal), 'NoSuchEntity');
      await rejectsWith(store().updateAccessKeyStatus(ACCOUNT, 'Alice', r.accessKeyId, 'Inactive', signal), 'NoSuchEntity');
      await rejectsWith(store().updateAccessKeyStatus(OTHER_ACCOUNT, null, r.accessKeyId, 'Inactive', signal), 'NoSuchEntity');
      await rejectsWith(store().updateAccessKeyStatus(ACCOUNT, 'ghost', k.accessKeyId, 'Inactive', signal), 'NoSuchEntity');
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.status, 'Active');
      assert.equal((await store().getAccessKey(r.accessKeyId, signal))?.status, 'Active');
    });

    it('deleteAccessKey removes the owner\'s key', async () => {
      const k = await store().createAccessKey(key('Alice'), signal);
      const r = await store().createAccessKey(key(null), signal);
      await store().deleteAccessKey(ACCOUNT, 'alice', k.accessKeyId, signal);
      await store().deleteAccessKey(ACCOUNT, null, r.accessKeyId, signal);
      assert.equal(await store().getAccessKey(k.accessKeyId, signal), undefined);
      assert.deepEqual(await store().listAccessKeys(ACCOUNT, null, signal), []);
    });

    it('deleteAccessKey throws NoSuchEntity for an unknown key or a key that belongs to another user', async () => {
      const k = await store().createAccessKey(key('Alice'), signal);
      await rejectsWith(store().deleteAccessKey(ACCOUNT, 'Alice', 'AKIANOPE', signal), 'NoSuchEntity');
      await rejectsWith(store().deleteAccessKey(ACCOUNT, 'bob', k.accessKeyId, signal), 'NoSuchEntity');
      await rejectsWith(store().deleteAccessKey(ACCOUNT, null, k.accessKeyId, signal), 'NoSuchEntity');
      assert.ok(await store().getAccessKey(k.accessKeyId, signal));
    });

    it('touchAccessKey records the first use, skips uses within 60 s and records a later one', async () => {
      const k = await store().createAccessKey(key('Alice'), signal);
      const t = Date.UTC(2024, 6, 1, 12);
      await store().touchAccessKey(k.accessKeyId, new Date(t), signal);
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.lastUsedAt?.getTime(), t);
      await store().touchAccessKey(k.accessKeyId, new Date(t + 59_999), signal);
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.lastUsedAt?.getTime(), t);
      await store().touchAccessKey(k.accessKeyId, new Date(t - 120_000), signal);
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.lastUsedAt?.getTime(), t);
      await store().touchAccessKey(k.accessKeyId, new Date(t + 60_000), signal);
      assert.equal((await store().getAccessKey(k.accessKeyId, signal))?.lastUsedAt?.getTime(), t + 60_000);
    });

    it('touchAccessKey ignores an unknown key', async () => {
      await store().touchAccessKey('AKIANOPE', new Date(), signal);
      assert.equal(await store().getAccessKey('AKIANOPE', signal), undefined);
    });
  });
}
