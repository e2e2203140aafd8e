/**
 * The PostgreSQL key store against the same contract as the SQLite one (a fresh database per store
 * instance), plus what only a shared database has: two nodes (two pools) updating one key and
 * creating one alias at the same moment.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { openKeyStore } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { isBerthError } from '../../src/core/errors.js';
import type { KeyStore, KmsKey } from '../../src/core/ports/key-store.js';
import { openPostgres } from '../../src/storage/meta/postgres/open.js';
import { openPostgresKeyStore, PgKeyStore } from '../../src/storage/meta/postgres/pg-key-store.js';
import { freshPostgres, POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { keyStoreContract } from './key-store.contract.js';

const skip = skipReason(POSTGRES_SKIP);
const never = new AbortController().signal;

/** A store on a database of its own, dropped when the store is closed. */
async function openFresh(): Promise<KeyStore> {
  const pg = await freshPostgres();
  const store = await openPostgresKeyStore({ url: pg.url, poolSize: 4 });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await pg.drop();
  };
  return store;
}

if (!skip) keyStoreContract('postgres', openFresh);

describe('PostgreSQL key store across nodes', { skip }, () => {
  it('two nodes updating one key both land; two creating one alias: exactly one wins, the other is EntityAlreadyExists', async () => {
    const pg = await freshPostgres();
    // Two pools, as two berth processes would have (a lease would share one).
    const handles = await Promise.all([1, 2].map(() => openPostgres({ url: pg.url, poolSize: 3 })));
    try {
      const [a, b] = handles.map((h) => new PgKeyStore(h));
      const keyId = randomUUID();
      const key: KmsKey = {
        keyId, accountId: '111122223333', arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`, description: '', keySpec: 'SYMMETRIC_DEFAULT',
        keyUsage: 'ENCRYPT_DECRYPT', state: 'Enabled', manager: 'CUSTOMER', createdAt: new Date(1_700_000_000_000), rotationEnabled: false,
        rotationPeriodInDays: 365, policy: '{}', tags: [], currentVersion: 1,
      };
      await a!.createKey(key, { keyId, version: 1, sealed: Buffer.from('s'), createdAt: new Date(1_700_000_000_000), origin: 'INITIAL' }, never);
      await Promise.all(Array.from({ length: 10 }, (_, n) => (n % 2 ? a! : b!).updateKey(keyId,
        (cur) => ({ ...cur, tags: [...cur.tags, { TagKey: `t${n}`, TagValue: '' }] }), never)));
      assert.equal((await b!.getKey(keyId, never))?.tags.length, 10, 'no update lost another');

      const at = new Date(1_700_000_000_000);
      const results = await Promise.allSettled([a!, b!, a!, b!].map((s) => s.createAlias({ accountId: key.accountId, aliasName: 'alias/race', targetKeyId: keyId, createdAt: at, updatedAt: at }, never)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(isBerthError(r.reason) && r.reason.code === 'EntityAlreadyExists', String(r.reason));
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await pg.drop();
    }
  });
});

describe('app wiring of the key store', { skip }, () => {
  it('storage.meta: postgres opens the PostgreSQL key store on postgres.url', async () => {
    const pg = await freshPostgres();
    try {
      const config = validateConfig({ storage: { meta: 'postgres' }, postgres: { url: pg.url, poolSize: 2 } });
      const store = await openKeyStore(config, '/nonexistent/meta.db');
      try {
        assert.ok(store instanceof PgKeyStore);
        await store.putDataKey({ digest: 'sha256:ab', dataKeyId: '01', scope: 'aes256', wrapped: Buffer.from('w'), createdAt: new Date(1) }, never);
        assert.equal(await store.hasDataKeys('sha256:ab', never), true);
      } finally {
        await store.close();
      }
    } finally {
      await pg.drop();
    }
  });
});
