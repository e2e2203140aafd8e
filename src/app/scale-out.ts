import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { LocalChangeFeed } from '../core/local-change-feed.js';
import { MemorySignInFailures, MemoryTokenBuckets } from '../core/memory-limits.js';
import type { ChangeFeed } from '../core/ports/change-feed.js';
import type { SignInFailures, TokenBuckets } from '../core/ports/shared-limits.js';
import { LocalSingletonLock, type SingletonLock } from '../core/ports/singleton-lock.js';

/** The PostgreSQL URL when the nodes share a PostgreSQL database, else undefined (one node). */
function sharedDatabase(config: Config): { url: string; poolSize: number } | undefined {
  const url = config.postgres.url;
  return config.storage.meta === 'postgres' && url !== undefined ? { url, poolSize: config.postgres.poolSize } : undefined;
}

/**
 * The change feed for this configuration: PostgreSQL `LISTEN/NOTIFY` when the nodes share a
 * PostgreSQL database (scale-out), else this process alone.
 */
export async function openChangeFeed(config: Config, log: Pick<Logger, 'warn'>): Promise<ChangeFeed> {
  const db = sharedDatabase(config);
  if (!db) return new LocalChangeFeed();
  const { PgChangeFeed } = await import('../storage/meta/postgres/pg-change-feed.js');
  return PgChangeFeed.open({
    ...db, onError: (err) => log.warn({ err }, 'change feed connection lost; reconnecting (caches fall back to their TTL meanwhile)'),
  });
}

/** Pull-rate buckets and sign-in failures: in one table for nodes on PostgreSQL, else in process memory. */
export async function openSharedLimits(config: Config): Promise<{ buckets: TokenBuckets; failures: SignInFailures; close(): Promise<void> }> {
  const db = sharedDatabase(config);
  if (!db) return { buckets: new MemoryTokenBuckets(), failures: new MemorySignInFailures(), close: async () => {} };
  const { PgSharedLimits } = await import('../storage/meta/postgres/pg-shared-limits.js');
  const store = await PgSharedLimits.open(db);
  return { buckets: store, failures: store, close: () => store.close() };
}

/** Singleton schedules: PostgreSQL advisory locks for nodes on one database, else always granted. */
export async function openSingletonLock(config: Config): Promise<SingletonLock> {
  const db = sharedDatabase(config);
  if (!db) return new LocalSingletonLock();
  const { PgSingletonLock } = await import('../storage/meta/postgres/pg-singleton-lock.js');
  return PgSingletonLock.open(db);
}
