import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/core/errors.js';
import type { KeyStore, KeyVersion, KmsKey } from '../../src/core/ports/key-store.js';

const never = new AbortController().signal;
const ACCT = '111122223333';

function key(over: Partial<KmsKey> = {}): KmsKey {
  const keyId = over.keyId ?? randomUUID();
  return {
    keyId, accountId: ACCT, arn: `arn:aws:kms:us-east-1:${ACCT}:key/${keyId}`, description: 'd', keySpec: 'SYMMETRIC_DEFAULT',
    keyUsage: 'ENCRYPT_DECRYPT', state: 'Enabled', manager: 'CUSTOMER', createdAt: new Date(1_700_000_000_000), rotationEnabled: false,
    rotationPeriodInDays: 365, policy: '{}', tags: [], currentVersion: 1, ...over,
  };
}
const version = (keyId: string, v: number, origin: KeyVersion['origin'] = 'INITIAL'): KeyVersion =>
  ({ keyId, version: v, sealed: Buffer.from(`sealed-${v}`), createdAt: new Date(1_700_000_000_000 + v), origin });
const code = (c: string) => (e: unknown) => isBerthError(e) && e.code === c;

/** The behaviour every {@link KeyStore} must have; `open` returns a fresh, empty store. */
export function keyStoreContract(name: string, open: () => Promise<KeyStore>): void {
  const withStore = async (fn: (s: KeyStore) => Promise<void>) => {
    const s = await open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe(`KeyStore contract: ${name}`, () => {
    it('creates a key with its first version and reads both back; a reused key id is refused', () => withStore(async (s) => {
      const k = key({ tags: [{ TagKey: 'a', TagValue: 'b' }], deletionDate: new Date(1_800_000_000_000) });
      await s.createKey(k, version(k.keyId, 1), never);
      assert.deepEqual(await s.getKey(k.keyId, never), k);
      assert.deepEqual((await s.getVersion(k.keyId, 1, never))?.sealed, Buffer.from('sealed-1'));
      await assert.rejects(s.createKey(k, version(k.keyId, 1), never), code('EntityAlreadyExists'));
      assert.equal(await s.getKey(randomUUID(), never), undefined);
    }));

    it('lists an account\'s keys by id with marker paging, never another account\'s', () => withStore(async (s) => {
      const ids = [randomUUID(), randomUUID(), randomUUID()].sort();
      for (const id of ids) await s.createKey(key({ keyId: id }), version(id, 1), never);
      const other = key({ accountId: '444455556666' });
      await s.createKey(other, version(other.keyId, 1), never);
      assert.deepEqual((await s.listKeys(ACCT, { limit: 2 }, never)).map((k) => k.keyId), ids.slice(0, 2));
      assert.deepEqual((await s.listKeys(ACCT, { limit: 2, marker: ids[1] }, never)).map((k) => k.keyId), ids.slice(2));
    }));

    it('updates a key atomically by a function of its stored state; a missing key is NoSuchEntity', () => withStore(async (s) => {
      const k = key();
      await s.createKey(k, version(k.keyId, 1), never);
      await Promise.all([1, 2, 3].map((n) => s.updateKey(k.keyId, (cur) => ({ ...cur, tags: [...cur.tags, { TagKey: `t${n}`, TagValue: '' }] }), never)));
      assert.equal((await s.getKey(k.keyId, never))?.tags.length, 3);
      await assert.rejects(s.updateKey(randomUUID(), (c) => c, never), code('NoSuchEntity'));
    }));

    it('adds rotations: the new version becomes current and every version stays readable', () => withStore(async (s) => {
      const k = key();
      await s.createKey(k, version(k.keyId, 1), never);
      await s.addVersion(version(k.keyId, 2, 'ON_DEMAND'), never);
      assert.equal((await s.getKey(k.keyId, never))?.currentVersion, 2);
      assert.deepEqual((await s.listVersions(k.keyId, never)).map((v) => [v.version, v.origin]), [[1, 'INITIAL'], [2, 'ON_DEMAND']]);
    }));

    it('aliases: create, refuse a duplicate, retarget, list per key, delete; deleting a key drops its aliases', () => withStore(async (s) => {
      const [a, b] = [key(), key()];
      for (const k of [a, b]) await s.createKey(k, version(k.keyId, 1), never);
      const at = new Date(1_700_000_000_000);
      await s.createAlias({ accountId: ACCT, aliasName: 'alias/x', targetKeyId: a.keyId, createdAt: at, updatedAt: at }, never);
      await assert.rejects(s.createAlias({ accountId: ACCT, aliasName: 'alias/x', targetKeyId: b.keyId, createdAt: at, updatedAt: at }, never), code('EntityAlreadyExists'));
      await s.updateAlias(ACCT, 'alias/x', b.keyId, new Date(1_700_000_000_500), never);
      assert.equal((await s.getAlias(ACCT, 'alias/x', never))?.targetKeyId, b.keyId);
      assert.deepEqual((await s.listAliases(ACCT, a.keyId, never)).length, 0);
      assert.deepEqual((await s.listAliases(ACCT, b.keyId, never)).map((x) => x.aliasName), ['alias/x']);
      await assert.rejects(s.updateAlias(ACCT, 'alias/none', a.keyId, at, never), code('NoSuchEntity'));
      await s.deleteKey(b.keyId, never);
      assert.equal(await s.getAlias(ACCT, 'alias/x', never), undefined);
      assert.equal(await s.getKey(b.keyId, never), undefined);
      await assert.rejects(s.deleteAlias(ACCT, 'alias/x', never), code('NoSuchEntity'));
    }));

    it('blob data keys: idempotent put, per data key lookup, presence, deletion by key id or digest', () => withStore(async (s) => {
      const e = { digest: 'sha256:aa', dataKeyId: '01', scope: 'aes256', wrapped: Buffer.from('w1'), createdAt: new Date(1) };
      await s.putDataKey(e, never);
      await s.putDataKey({ ...e, wrapped: Buffer.from('ignored') }, never);
      await s.putDataKey({ ...e, scope: 'kms:arn', wrapped: Buffer.from('w2'), createdAt: new Date(2) }, never);
      await s.putDataKey({ ...e, dataKeyId: '02' }, never);
      assert.deepEqual((await s.getDataKeys('sha256:aa', '01', never)).map((x) => [x.scope, Buffer.from(x.wrapped).toString()]), [['aes256', 'w1'], ['kms:arn', 'w2']]);
      assert.equal(await s.hasDataKeys('sha256:aa', never), true);
      await s.deleteDataKeys('sha256:aa', '01', never);
      assert.equal((await s.getDataKeys('sha256:aa', '01', never)).length, 0);
      assert.equal((await s.getDataKeys('sha256:aa', '02', never)).length, 1);
      await s.deleteDataKeys('sha256:aa', undefined, never);
      assert.equal(await s.hasDataKeys('sha256:aa', never), false);
    }));
  });
}
