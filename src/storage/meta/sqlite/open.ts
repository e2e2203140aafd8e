import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { metaMigrations, migrateMetaStore, SQLITE_TYPES } from '../migrations/index.js';
import { createFromSnapshot } from './schema-snapshot.js';
import { Statements } from './statements.js';

/**
 * Opens (creating if needed) the SQLite metadata file at `path` and applies every pending migration
 * atomically; `':memory:'` gives a throwaway database of its own. The metadata, identity, key,
 * lifecycle and public stores all live in the file, so whichever opens a fresh file first migrates it.
 * Throws when the file cannot be opened or migrated.
 *
 * Every store of a process that opens the same file shares one connection (issue 12: seven opens at
 * every server start cost page cache, descriptors and start-up time). Each caller gets its own
 * kysely instance (to build queries) and {@link Statements} (to run them), whose `close()` lets go
 * of its share; the connection closes with the last one. Sharing is safe because every query runs
 * synchronously ({@link Statements}): no transaction of one store can be open while another store's
 * code runs, and a store that calls another inside its transaction nests a savepoint instead of
 * waiting on its own file's write lock. `ownConnection` opens a connection of its own, as another
 * process would (tests of two writers).
 */
export async function openSqlite<S>(path: string, opts: { ownConnection?: boolean } = {}): Promise<{ db: Kysely<S>; sql: Statements }> {
  if (path === ':memory:' || opts.ownConnection === true) {
    const sqlite = await openConnection(path);
    return { db: kyselyWhenUsed<S>(sqlite), sql: new Statements(sqlite, () => sqlite.close()) };
  }
  const key = resolve(path);
  let entry = shared.get(key);
  if (entry === undefined) {
    entry = { connection: openConnection(path), refs: 0 };
    shared.set(key, entry);
  }
  const share = entry;
  share.refs++;
  let sqlite: Database.Database;
  try {
    sqlite = await share.connection;
  } catch (e) {
    if (--share.refs === 0 && shared.get(key) === share) shared.delete(key);
    throw e;
  }
  const release = () => {
    if (--share.refs > 0) return;
    if (shared.get(key) === share) shared.delete(key);
    sqlite.close();
  };
  // The kysely instance builds queries; they run through `sql`, whose close() lets go of the share
  // (kysely's destroy() closes nothing unless it has run a query itself).
  return { db: kyselyWhenUsed<S>(sqlite), sql: new Statements(sqlite, release) };
}

/**
 * The kysely instance of a store, made the first time the store builds a query: every store is
 * opened at every start, whose few queries are SQL text, so a start never loads the query builder
 * (a chunk of the bundle, loaded when first read: scripts/build.mjs; ~10 ms of a start, issue 12).
 * Methods are bound to the instance, whose private fields a proxy could not reach.
 */
function kyselyWhenUsed<S>(sqlite: Database.Database): Kysely<S> {
  let db: Kysely<S> | undefined;
  const instance = () => (db ??= kyselyOn<S>(sqlite));
  return new Proxy({} as Kysely<S>, {
    get(_, key) {
      const target = instance();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_, key) => Reflect.has(instance(), key),
  });
}

/** A kysely instance building queries for (and, in the migrator, running them on) `sqlite`. */
function kyselyOn<S>(sqlite: Database.Database): Kysely<S> {
  return new Kysely<S>({ dialect: new SqliteDialect({ database: sqlite }) });
}

/** The connection each file's stores share in this process, and how many stores hold it. */
const shared = new Map<string, { connection: Promise<Database.Database>; refs: number }>();

/** A new connection to `path`, its pragmas set and its schema current. */
async function openConnection(path: string): Promise<Database.Database> {
  const sqlite = new Database(path);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    // Every process opens the file (every worker at a server start): when all migrations are
    // applied already, skip the migrator and its write lock — workers starting together would
    // otherwise queue on that lock with SQLite's sleeping busy handler.
    // A new file: the schema the migrations build, created in one go (schema-snapshot.ts).
    if (allMigrationsApplied(sqlite) || createFromSnapshot(sqlite, Object.keys(metaMigrations(SQLITE_TYPES)).sort())) {
      sqlite.pragma('foreign_keys = ON');
      return sqlite;
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
      await migrateMetaStore(kyselyOn<unknown>(sqlite), SQLITE_TYPES);
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
    return sqlite;
  } catch (e) {
    sqlite.close();
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
