import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openPostgresIdentityStore } from '../../src/storage/meta/postgres/pg-identity-store.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { identityStoreContract } from './identity-store.contract.js';
import { ACCOUNT, key, signal, user } from './identity-store-helpers.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
after(() => databases.dropAll());

/** A store on a database of its own (dropped after the file). */
async function fresh(poolSize = 4) {
  const pg = await databases.fresh();
  return { url: pg.url, store: await openPostgresIdentityStore({ url: pg.url, poolSize }) };
}

if (!skip) identityStoreContract('postgres', async () => (await fresh()).store);

describe('PgIdentityStore across nodes', { skip }, () => {
  it('two nodes creating the same user at once: one succeeds, the other gets EntityAlreadyExists', async () => {
    const { url, store } = await fresh();
    // A second pool on the same database is a second node (leasePostgres shares per URL, so open a distinct URL).
    const other = await openPostgresIdentityStore({ url: `${url}?application_name=node2`, poolSize: 4 });
    try {
      await store.ensureAccount(ACCOUNT, signal);
      for (let round = 0; round < 10; round++) {
        const name = `race${round}`;
        const results = await Promise.allSettled([store.createUser(user(name), signal), other.createUser(user(name.toUpperCase()), signal)]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
        const rejected = results.find((r) => r.status === 'rejected');
        assert.equal((rejected as PromiseRejectedResult).reason.code, 'EntityAlreadyExists');
      }
    } finally {
      await other.close();
      await store.close();
    }
  });

  it('the two-key quota holds when two nodes add keys to one user at once', async () => {
    const { url, store } = await fresh();
    const other = await openPostgresIdentityStore({ url: `${url}?application_name=node2`, poolSize: 4 });
    try {
      await store.ensureAccount(ACCOUNT, signal);
      await store.createUser(user('alice'), signal);
      const results = await Promise.allSettled([
        store.createAccessKey(key('alice'), signal), other.createAccessKey(key('alice'), signal),
        store.createAccessKey(key('alice'), signal), other.createAccessKey(key('alice'), signal),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'LimitExceeded');
      assert.equal((await other.listAccessKeys(ACCOUNT, 'alice', signal)).length, 2);
    } finally {
      await other.close();
      await store.close();
    }
  });

  it('stores the access-key secret as the ciphertext it was given (bytea), returned byte for byte', async () => {
    const { store } = await fresh();
    try {
      await store.ensureAccount(ACCOUNT, signal);
      const secret = new Uint8Array([0, 255, 1, 128, 7]);
      const k = await store.createAccessKey(key(null, { secretCiphertext: secret }), signal);
      const got = await store.getAccessKey(k.accessKeyId, signal);
      assert.deepEqual(got?.secretCiphertext, secret);
      assert.equal(got?.secretCiphertext.constructor, Uint8Array);
    } finally {
      await store.close();
    }
  });
});
