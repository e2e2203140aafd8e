import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_ACCOUNT_ID, DEFAULT_REPOSITORY_SETTINGS } from '../../src/core/ports/meta-store.js';
import { metaMigrations, SQLITE_TYPES } from '../../src/storage/meta/migrations/index.js';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';
import { metaStoreContract } from './meta-store.contract.js';
import { digestOf, manifest, OCI_MANIFEST, signal, ACCOUNT, k } from './meta-store-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-meta-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `meta-${++files}.db`);

metaStoreContract('sqlite (file)', () => openSqliteMetaStore({ path: freshPath() }));
metaStoreContract('sqlite (:memory:)', () => openSqliteMetaStore({ path: ':memory:' }));

describe('SqliteMetaStore on a file', () => {
  it('keeps every committed write across close and reopen, and migrating again is a no-op', async () => {
    const path = freshPath();
    const first = await openSqliteMetaStore({ path });
    await first.createRepository(k('r'), signal);
    await first.linkBlob(k('r'), digestOf('layer'), 7, signal);
    const input = manifest('r', 'one', { blobs: [digestOf('layer')], tag: 'latest', annotations: { a: 'b' } });
    await first.putManifest(input, signal);
    await first.createUpload({ id: 'u1', repository: k('r') }, signal);
    await first.advanceUpload(k('r'), 'u1', 0, 5, signal);
    const stored = await first.getManifest(k('r'), input.digest, signal);
    await first.close();

    const second = await openSqliteMetaStore({ path });
    try {
      assert.deepEqual(await second.listRepositories(ACCOUNT, { limit: 10 }, signal), ['r']);
      assert.deepEqual(await second.getBlobLink(k('r'), digestOf('layer'), signal), { size: 7 });
      assert.deepEqual(await second.getManifest(k('r'), input.digest, signal), stored);
      assert.equal(await second.resolveTag(k('r'), 'latest', signal), input.digest);
      assert.equal((await second.getUpload(k('r'), 'u1', signal))?.size, 5);
    } finally {
      await second.close();
    }
  });

  it('makes a write visible to another store opened on the same file as soon as it resolves', async () => {
    const path = freshPath();
    const a = await openSqliteMetaStore({ path });
    const b = await openSqliteMetaStore({ path });
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

  it('migrates a file made by 0001 only: old rows get the default account, default settings, image size 0, no pull time', async () => {
    const path = freshPath();
    const sqlite = new Database(path);
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    const initial = metaMigrations(SQLITE_TYPES)['0001-initial']!;
    const migrated = await new Migrator({ db, provider: { getMigrations: async () => ({ '0001-initial': initial }) } }).migrateToLatest();
    assert.equal(migrated.error, undefined);
    const digest = digestOf('manifest:old');
    const body = Buffer.from('{"schemaVersion":2}');
    sqlite.prepare('INSERT INTO repositories (name, created_at) VALUES (?, ?)').run('old', 1_000);
    sqlite.prepare('INSERT INTO manifests (repository_id, digest, media_type, size, body, pushed_at) VALUES (1, ?, ?, ?, ?, ?)')
      .run(digest, OCI_MANIFEST, body.byteLength, body, 2_000);
    sqlite.prepare('INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (1, ?, ?, ?)').run('v1', digest, 2_000);
    await db.destroy();

    const store = await openSqliteMetaStore({ path });
    try {
      assert.deepEqual(await store.getRepository(k('old'), signal), {
        name: 'old', createdAt: new Date(1_000), accountId: DEFAULT_ACCOUNT_ID, settings: DEFAULT_REPOSITORY_SETTINGS,
      });
      assert.equal(await store.getRepositoryPolicy(k('old'), signal), undefined);
      assert.equal((await store.getManifest(k('old'), digest, signal))?.size, body.byteLength);
      assert.deepEqual(await store.listImageIds(k('old'), { limit: 10 }, signal), { ids: [{ digest, tag: 'v1' }] });
      assert.deepEqual((await store.describeImages(k('old'), { limit: 10 }, signal)).images, [{
        digest, tags: ['v1'], mediaType: OCI_MANIFEST, manifestSize: body.byteLength, imageSize: 0, pushedAt: new Date(2_000),
      }]);
      await store.recordPull(k('old'), digest, new Date(3_000), signal);
      assert.equal((await store.describeImages(k('old'), { limit: 10 }, signal)).images[0]?.lastPulledAt?.getTime(), 3_000);
      assert.equal((await store.updateRepository(k('old'), { scanOnPush: true }, signal)).settings.scanOnPush, true);
      await store.setRegistryPolicy(DEFAULT_ACCOUNT_ID, '{}', signal);
      await store.putAccountSetting(DEFAULT_ACCOUNT_ID, 'BASIC_SCAN_TYPE_VERSION', 'AWS_NATIVE', signal);
    } finally {
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    try {
      const names = (check.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]).map((r) => r.name);
      assert.deepEqual(names.slice(0, 2), ['0001-initial', '0002-ecr']);
    } finally {
      check.close();
    }
  });

  it('fills settings stored before a field existed from the current defaults', async () => {
    const path = freshPath();
    const store = await openSqliteMetaStore({ path });
    try {
      await store.createRepository(k('r'), signal, { settings: { imageTagMutability: 'IMMUTABLE' } });
      const raw = new Database(path);
      raw.prepare('UPDATE repositories SET settings = ? WHERE name = ?').run('{"imageTagMutability":"IMMUTABLE"}', 'r');
      raw.close();
      assert.deepEqual((await store.getRepository(k('r'), signal))?.settings, { ...DEFAULT_REPOSITORY_SETTINGS, imageTagMutability: 'IMMUTABLE' });
      assert.deepEqual((await store.listRepositoryDetails(ACCOUNT, { limit: 1 }, signal))[0]?.settings.imageTagMutabilityExclusionFilters, []);
    } finally {
      await store.close();
    }
  });
});
