import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { metaMigrations, migrateMetaStore, SQLITE_TYPES } from '../migrations/index.js';
import { createFromSnapshot } from './schema-snapshot.js';
import { Statements } from './statements.js';

/**
 * Opens (creating if needed) the SQLite metadata file at `path` on a connection of its own
 * (`':memory:'` for a throwaway one), and applies every pending migration atomically. The metadata
 * and identity stores share the file, so whichever opens a fresh file first migrates it. Throws
 * when the file cannot be opened or migrated.
 */
export async function openSqlite<S>(path: string): Promise<{ db: Kysely<S>; sql: Statements }> {
  const sqlite = new Database(path);
  const db = new Kysely<S>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    // Every store of a process opens the file (seven at a server start, in every worker): when all
    // migrations are applied already, skip the migrator and its write lock — workers starting
    // together would otherwise queue on that lock with SQLite's sleeping busy handler.
    // A new file: the schema the migrations build, created in one go (schema-snapshot.ts).
    if (allMigrationsApplied(sqlite) || createFromSnapshot(sqlite, Object.keys(metaMigrations(SQLITE_TYPES)).sort())) {
      sqlite.pragma('foreign_keys = ON');
      return { db, sql: new Statements(sqlite) };
    }
    // Foreign keys are off while migrations run (it can only change outside a transaction): a
    // table rebuild (0004) must not cascade its DROP TABLE. Every reference is checked before the
    // commit instead, so a migration cannot leave a dangling one.
    sqlite.pragma('foreign_keys = OFF');
    // SQLite DDL is transactional even though kysely does not assume so; holding the write lock
    // for the whole run also stops two processes opening a fresh file from migrating it twice.
    sqlite.exec('BEGIN IMMEDIATE');
    try {
      const before = appliedMigrations(sqlite);
      await migrateMetaStore(db as unknown as Kysely<unknown>, SQLITE_TYPES);
      // Checked only when a migration ran: the check reads every row of every table.
      if (appliedMigrations(sqlite) !== before) {
        const dangling = sqlite.pragma('foreign_key_check') as unknown[];
        if (dangling.length > 0) throw new Error(`metadata migration left ${dangling.length} dangling references`);
      }
      sqlite.exec('COMMIT');
    } catch (e) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw e;
    }
    sqlite.pragma('foreign_keys = ON');
    return { db, sql: new Statements(sqlite) };
  } catch (e) {
    await db.destroy();
    throw e;
  }
}

/** True when the file has applied every migration this build knows (one read, no lock held after it). */
function allMigrationsApplied(sqlite: Database.Database): boolean {
  if (!sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get()) return false;
  const applied = new Set((sqlite.prepare('select name from kysely_migration').pluck().all() as string[]));
  return Object.keys(metaMigrations(SQLITE_TYPES)).every((name) => applied.has(name));
}

/** How many migrations the file has applied (0 for a fresh file). */
function appliedMigrations(sqlite: Database.Database): number {
  const table = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
  return table ? (sqlite.prepare('select count(*) as n from kysely_migration').get() as { n: number }).n : 0;
}
