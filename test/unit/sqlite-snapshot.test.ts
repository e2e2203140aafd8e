/**
 * A new SQLite metadata file gets the schema the migrations build from a snapshot, in one
 * transaction (src/storage/meta/sqlite/schema-snapshot.ts; issue 12, start-up): the snapshot must
 * be current, and the file it makes must be the one the migrator makes, bookkeeping included.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { metaMigrations, migrateMetaStore, SQLITE_TYPES } from '../../src/storage/meta/migrations/index.js';
import { openSqlite } from '../../src/storage/meta/sqlite/open.js';
import { createFromSnapshot, readSchemaSnapshot } from '../../src/storage/meta/sqlite/schema-snapshot.js';
import { SQLITE_SCHEMA_SNAPSHOT } from '../../src/storage/meta/sqlite/schema-snapshot-data.js';
import { sqliteSchemaSnapshotSource } from '../../src/storage/meta/sqlite/schema-snapshot-gen.js';
import { makeTempDir } from '../e2e/harness.js';

const dir = makeTempDir('berth-snapshot-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Everything about a file's schema and contents that the migrator decides. */
function describeFile(path: string): unknown {
  const sqlite = new Database(path, { readonly: true });
  try {
    const objects = sqlite.prepare("select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite\\_autoindex%' escape '\\' order by type, name").all() as { type: string; name: string }[];
    const rows = Object.fromEntries(objects.filter((o) => o.type === 'table' && o.name !== 'kysely_migration').map((o) => [o.name, sqlite.prepare(`select * from "${o.name}"`).all()]));
    const migrations = sqlite.prepare('select name from kysely_migration order by name').pluck().all();
    return { objects, rows, migrations };
  } finally {
    sqlite.close();
  }
}

async function migrated(path: string): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  await migrateMetaStore(db, SQLITE_TYPES);
  await db.destroy();
}

describe('the SQLite schema snapshot', () => {
  it('is current: generated from the migrations of this tree (node --import tsx scripts/gen-sqlite-snapshot.ts)', async () => {
    const file = new URL('../../src/storage/meta/sqlite/schema-snapshot-data.ts', import.meta.url).pathname;
    assert.equal(readFileSync(file, 'utf8'), await sqliteSchemaSnapshotSource(), 'run: node --import tsx scripts/gen-sqlite-snapshot.ts');
    assert.deepEqual(SQLITE_SCHEMA_SNAPSHOT.migrations, Object.keys(metaMigrations(SQLITE_TYPES)).sort());
    assert.ok(SQLITE_SCHEMA_SNAPSHOT.statements.length > 40);
  });

  it('makes a new file the migrator would have made, which later opens and migrations take as migrated', async () => {
    const byMigrator = join(dir, 'migrated.db');
    await migrated(byMigrator);
    const bySnapshot = join(dir, 'snapshot.db');
    const { db } = await openSqlite(bySnapshot);
    await db.destroy();
    assert.deepEqual(describeFile(bySnapshot), describeFile(byMigrator));
    // The migrator finds nothing to do, and the next open takes the file as it is.
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(bySnapshot) }) });
    const { error, results } = await new Migrator({ db: kysely, provider: { getMigrations: async () => metaMigrations(SQLITE_TYPES) }, allowUnorderedMigrations: true }).migrateToLatest();
    await kysely.destroy();
    assert.equal(error, undefined);
    assert.deepEqual(results, []);
    const again = await openSqlite(bySnapshot);
    await again.db.destroy();
    const reopened = new Database(bySnapshot, { readonly: true });
    assert.equal(readSchemaSnapshot(reopened).statements.length, SQLITE_SCHEMA_SNAPSHOT.statements.length);
    reopened.close();
  });

  it('leaves alone a file that has any schema, and a snapshot of other migrations', async () => {
    const path = join(dir, 'other.db');
    const sqlite = new Database(path);
    sqlite.exec('create table unrelated (x integer)');
    assert.equal(createFromSnapshot(sqlite, SQLITE_SCHEMA_SNAPSHOT.migrations), false);
    assert.deepEqual(sqlite.prepare("select name from sqlite_master").pluck().all(), ['unrelated']);
    const empty = new Database(join(dir, 'empty.db'));
    assert.equal(createFromSnapshot(empty, [...SQLITE_SCHEMA_SNAPSHOT.migrations, '9999-future']), false);
    assert.equal(empty.prepare('select count(*) from sqlite_master').pluck().get(), 0);
    // A second connection to a file the first just created finds it created.
    assert.equal(createFromSnapshot(empty, SQLITE_SCHEMA_SNAPSHOT.migrations), true);
    const second = new Database(join(dir, 'empty.db'));
    assert.equal(createFromSnapshot(second, SQLITE_SCHEMA_SNAPSHOT.migrations), false);
    for (const c of [sqlite, empty, second]) c.close();
  });
});
