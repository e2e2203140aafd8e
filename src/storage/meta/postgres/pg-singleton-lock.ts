import type { SingletonLock } from '../../../core/ports/singleton-lock.js';
import { leasePostgres, type PostgresHandle } from './open.js';

/**
 * First key of the two-key advisory locks berth's schedules take ("brth" in ASCII); the second is
 * `hashtext(name)`. Distinct from the migration lock, which uses the one-bigint form.
 */
const SCHEDULE_LOCK_SPACE = 0x62727468;

/**
 * Singleton schedules over PostgreSQL session advisory locks: `pg_try_advisory_lock` on a pooled
 * connection held (and so dedicated) for the whole pass, released with `pg_advisory_unlock` after
 * it. Never waits: a node that does not get the lock skips this pass (the holder is doing it).
 * A session lock dies with its connection, so a crashed node never leaves a lock behind.
 */
export class PgSingletonLock implements SingletonLock {
  private constructor(private readonly handle: PostgresHandle) {}

  static async open(opts: { url: string; poolSize: number }): Promise<PgSingletonLock> {
    return new PgSingletonLock(await leasePostgres(opts));
  }

  async runExclusive<T>(name: string, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = await this.handle.pool.connect();
    let broken = false;
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      const { rows } = await client.query<{ got: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as got', [SCHEDULE_LOCK_SPACE, name])
        .catch((e: unknown) => {
          broken = true;
          throw e;
        });
      if (!rows[0]?.got) return { ran: false };
      try {
        return { ran: true, value: await task() };
      } finally {
        await client.query('select pg_advisory_unlock($1, hashtext($2))', [SCHEDULE_LOCK_SPACE, name]).catch(() => {
          broken = true;
        });
      }
    } finally {
      client.off('error', onError);
      // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
