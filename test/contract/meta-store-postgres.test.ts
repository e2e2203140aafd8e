/**
 * The MetaStore contract on PostgreSQL (a fresh database per store instance), plus what the SQLite
 * file tests prove about durability: committed writes survive close and reopen, and another store
 * on the same database sees a write as soon as it resolves.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { DEFAULT_REPOSITORY_SETTINGS } from '../../src/core/ports/meta-store.js';
import { openPostgres } from '../../src/storage/meta/postgres/open.js';
import { openPostgresMetaStore, PostgresMetaStore } from '../../src/storage/meta/postgres/pg-meta-store.js';
import { freshPostgres, POSTGRES_SKIP, skipReason, type TestPostgres } from '../support/servers.js';
import { metaStoreContract } from './meta-store.contract.js';
import { ACCOUNT, digestOf, k, manifest, signal } from './meta-store-helpers.js';

const skip = skipReason(POSTGRES_SKIP);
const databases: TestPostgres[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

async function freshDatabase(): Promise<TestPostgres> {
  const pg = await freshPostgres();
  databases.push(pg);
  return pg;
}

if (!skip) {
  metaStoreContract('postgres', async () => openPostgresMetaStore({ url: (await freshDatabase()).url, poolSize: 2 }));
}

describe('PostgresMetaStore on a database', { skip }, () => {
  it('keeps every committed write across close and reopen, and migrating again is a no-op', async () => {
    const { url } = await freshDatabase();
    const first = await openPostgresMetaStore({ url, poolSize: 2 });
    await first.createRepository(k('r'), signal);
    await first.linkBlob(k('r'), digestOf('layer'), 7, signal);
    const input = manifest('r', 'one', { blobs: [digestOf('layer')], tag: 'latest', annotations: { a: 'b' } });
    await first.putManifest(input, signal);
    await first.createUpload({ id: 'u1', repository: k('r') }, signal);
    await first.advanceUpload(k('r'), 'u1', 0, 5, signal);
    await first.setRepositoryPolicy(k('r'), '{"Version":"2012-10-17"}', signal);
    const stored = await first.getManifest(k('r'), input.digest, signal);
    await first.close();

    const second = await openPostgresMetaStore({ url, poolSize: 2 });
    try {
      assert.deepEqual(await second.listRepositories(ACCOUNT, { limit: 10 }, signal), ['r']);
      assert.deepEqual(await second.getBlobLink(k('r'), digestOf('layer'), signal), { size: 7 });
      assert.deepEqual(await second.getManifest(k('r'), input.digest, signal), stored);
      assert.ok(stored?.body instanceof Uint8Array && !Buffer.isBuffer(stored.body), 'the body is a plain Uint8Array, as from SQLite');
      assert.equal(await second.resolveTag(k('r'), 'latest', signal), input.digest);
      assert.equal((await second.getUpload(k('r'), 'u1', signal))?.size, 5);
      assert.equal(await second.getRepositoryPolicy(k('r'), signal), '{"Version":"2012-10-17"}');
      const raw = await openPostgres({ url, poolSize: 1 });
      try {
        const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(raw.db);
        assert.equal(new Set(rows.map((r) => r.name)).size, rows.length, 'each migration recorded once');
      } finally {
        await raw.close();
      }
    } finally {
      await second.close();
    }
  });

  it('makes a write on one node visible to another node (its own pool) as soon as it resolves', async () => {
    const { url } = await freshDatabase();
    const a = new PostgresMetaStore(await openPostgres({ url, poolSize: 2 }));
    const b = new PostgresMetaStore(await openPostgres({ url, poolSize: 2 }));
    try {
      await a.createRepository(k('r'), signal);
      await a.putManifest(manifest('r', 'one', { tag: 'latest' }), signal);
      assert.equal(await b.resolveTag(k('r'), 'latest', signal), digestOf('manifest:one'));
      assert.equal(await b.deleteRepository(k('r'), signal), true);
      assert.equal(await a.getRepository(k('r'), signal), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fills settings stored before a field existed from the current defaults', async () => {
    const { url } = await freshDatabase();
    const store = await openPostgresMetaStore({ url, poolSize: 2 });
    try {
      await store.createRepository(k('r'), signal, { settings: { imageTagMutability: 'IMMUTABLE' } });
      const raw = await openPostgres({ url, poolSize: 1 });
      await sql`update repositories set settings = ${'{"imageTagMutability":"IMMUTABLE"}'} where name = 'r'`.execute(raw.db);
      await raw.close();
      assert.deepEqual((await store.getRepository(k('r'), signal))?.settings, { ...DEFAULT_REPOSITORY_SETTINGS, imageTagMutability: 'IMMUTABLE' });
      assert.deepEqual((await store.listRepositoryDetails(ACCOUNT, { limit: 1 }, signal))[0]?.settings.imageTagMutabilityExclusionFilters, []);
    } finally {
      await store.close();
    }
  });
});

