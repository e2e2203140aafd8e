import type Database from 'better-sqlite3';
import { SQLITE_SCHEMA_SNAPSHOT } from './schema-snapshot-data.js';

/**
 * The SQLite schema every metadata migration builds, as one script: its CREATE statements as SQLite
 * stores them (`sqlite_master`, in creation order) and the migrations that produced it. A new, empty
 * file gets it in one transaction instead of running the migrations one kysely query at a time
 * (~25 ms less at a first start; issue 12), and is then exactly what the migrator would have left,
 * bookkeeping included, so later migrations apply to it as to any other file.
 *
 * The data (schema-snapshot-data.ts) is generated from the migrations by
 * `node --import tsx scripts/gen-sqlite-snapshot.ts`; test/unit/sqlite-snapshot.test.ts fails when
 * it is not current.
 */
export interface SchemaSnapshot {
  /** Names of the migrations the statements are the result of, in kysely's order. */
  readonly migrations: readonly string[];
  /** `sqlite_master.sql` of every table, index and trigger, in creation order. */
  readonly statements: readonly string[];
  /** The AUTOINCREMENT counters the migrations set (`sqlite_sequence`). */
  readonly sequences: readonly { readonly name: string; readonly seq: number }[];
}

/** The snapshot of `sqlite`'s schema (for the generator and the test). */
export function readSchemaSnapshot(sqlite: Database.Database): SchemaSnapshot {
  return {
    migrations: sqlite.prepare('select name from kysely_migration order by name').pluck().all() as string[],
    statements: sqlite.prepare("select sql from sqlite_master where sql is not null and name not like 'sqlite\\_%' escape '\\' order by rowid").pluck().all() as string[],
    sequences: sqlite.prepare("select 1 from sqlite_master where name = 'sqlite_sequence'").get()
      ? sqlite.prepare('select name, seq from sqlite_sequence order by name').all() as { name: string; seq: number }[] : [],
  };
}

/**
 * Creates the snapshot's schema in `sqlite` when the file holds no schema at all and the snapshot is
 * of exactly `migrations` (the ones this build knows); returns whether it did. Holds the write lock
 * throughout, so a second process opening the same new file waits and then finds it created.
 */
export function createFromSnapshot(sqlite: Database.Database, migrations: readonly string[], snapshot: SchemaSnapshot = SQLITE_SCHEMA_SNAPSHOT): boolean {
  if (snapshot.migrations.length !== migrations.length || snapshot.migrations.some((m, i) => m !== migrations[i])) return false;
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    if (sqlite.prepare('select 1 from sqlite_master limit 1').get()) {
      sqlite.exec('ROLLBACK');
      return false;
    }
    for (const statement of snapshot.statements) sqlite.exec(statement);
    // What kysely's migrator records: one row per applied migration, and its (unlocked) lock row.
    const at = new Date().toISOString();
    const record = sqlite.prepare('insert into kysely_migration (name, timestamp) values (?, ?)');
    for (const name of snapshot.migrations) record.run(name, at);
    sqlite.prepare("insert into kysely_migration_lock (id, is_locked) values ('migration_lock', 0)").run();
    const sequence = sqlite.prepare('insert into sqlite_sequence (name, seq) values (?, ?)');
    for (const { name, seq } of snapshot.sequences) sequence.run(name, seq);
    sqlite.exec('COMMIT');
    return true;
  } catch (e) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw e;
  }
}
