import { Kysely, PostgresDialect } from 'kysely';
import type { Pool } from 'pg';
import { migrateMetaStore, POSTGRES_TYPES, type MetaSchema } from '../migrations/index.js';

/** One process's connection pool to the shared PostgreSQL database, with the query builder over it. */
export interface PostgresHandle {
  readonly db: Kysely<MetaSchema>;
  readonly pool: Pool;
  /** Ends the pool (every store opened on this handle stops working). */
  close(): Promise<void>;
}

/**
 * Key of the session-level advisory lock migrations run under, so nodes starting at once migrate
 * one after another (the later ones find nothing pending). Any fixed 64-bit number; this one is
 * "berth" in ASCII.
 */
const MIGRATION_LOCK = 0x6265727468n;

/**
 * Opens a pool to the database at `url` and applies every pending migration under an advisory lock.
 * `pg` is loaded here, on first use, so the embedded default never pays for it. Throws when the
 * database cannot be reached or a migration fails (the pool is closed then).
 */
export async function openPostgres(opts: { url: string; poolSize: number }): Promise<PostgresHandle> {
  const { default: pg } = await import('pg');
  // int8 (bigint) columns hold epoch milliseconds and byte sizes, all far below 2^53: parse them as numbers.
  pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize, idleTimeoutMillis: 30_000 });
  // A pool error (a server restart killing idle connections) must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', () => {});
  const db = new Kysely<MetaSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    const client = await pool.connect();
    try {
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
      try {
        await migrateMetaStore(db as unknown as Kysely<unknown>, POSTGRES_TYPES);
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
      }
    } finally {
      client.release();
    }
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return { db, pool, close: () => db.destroy() };
}

const shared = new Map<string, { handle: Promise<PostgresHandle>; leases: number }>();

/**
 * A lease on this process's one pool for `url` (opened and migrated on the first lease): every
 * PostgreSQL store of a process shares the pool, as the SQLite stores share the file. `close()` on
 * the returned handle releases the lease; the pool ends when the last lease is released.
 */
export async function leasePostgres(opts: { url: string; poolSize: number }): Promise<PostgresHandle> {
  let entry = shared.get(opts.url);
  if (!entry) {
    entry = { handle: openPostgres(opts), leases: 0 };
    shared.set(opts.url, entry);
    entry.handle.catch(() => shared.delete(opts.url));
  }
  entry.leases++;
  const current = entry;
  let handle: PostgresHandle;
  try {
    handle = await current.handle;
  } catch (e) {
    current.leases--;
    throw e;
  }
  let released = false;
  return {
    db: handle.db,
    pool: handle.pool,
    async close() {
      if (released) return;
      released = true;
      if (--current.leases === 0) {
        shared.delete(opts.url);
        await handle.close();
      }
    },
  };
}
