import { sql } from 'kysely';
import { FAILURE_WINDOW_MS, LOCKOUT_MS, type BucketConfig, type FailureRule, type SignInFailures, type TokenBuckets } from '../../../core/ports/shared-limits.js';
import { leasePostgres, type PostgresHandle } from './open.js';

/**
 * How old an untouched bucket row gets before it is swept. A bucket refills in burst/rate seconds
 * (seconds to minutes for any sensible limit), so an hour-old row is a full bucket: deleting it
 * changes nothing.
 */
const BUCKET_SWEEP_AGE_MS = 3_600_000;
/** Sweep once per this many takes of a process (a cheap indexed delete, off the request path). */
const SWEEP_EVERY = 1000;

/**
 * Pull-rate buckets and sign-in failure counters in PostgreSQL, shared by every node (issue 11).
 * Each take and each failure is ONE statement (`insert … on conflict do update … returning`), so
 * two nodes counting the same key at once serialise on its row and neither update is lost.
 */
export class PgSharedLimits implements TokenBuckets, SignInFailures {
  #takes = 0;

  private constructor(private readonly handle: PostgresHandle) {}

  static async open(opts: { url: string; poolSize: number }): Promise<PgSharedLimits> {
    return new PgSharedLimits(await leasePostgres(opts));
  }

  async take(id: string, cfg: BucketConfig, now: number): Promise<{ granted: boolean; tokens: number }> {
    const burst = sql`${cfg.burst}::double precision`;
    const rate = sql`${cfg.perSecond}::double precision`;
    const at = sql`${now}::bigint`;
    // The refilled level before this take, from the row as it was (ON CONFLICT sees the old row as b).
    const refill = sql`least(${burst}, b.tokens + greatest(0, ${at} - b.at) / 1000.0 * ${rate})`;
    const fresh = cfg.burst >= 1;
    const { rows } = await sql<{ tokens: number; granted: number }>`
      insert into rate_buckets as b (id, tokens, at, granted)
      values (${id}, ${fresh ? cfg.burst - 1 : cfg.burst}::double precision, ${at}, ${fresh ? 1 : 0})
      on conflict (id) do update set
        tokens = ${refill} - case when ${refill} >= 1 then 1 else 0 end,
        granted = case when ${refill} >= 1 then 1 else 0 end,
        at = greatest(b.at, ${at})
      returning tokens, granted`.execute(this.handle.db);
    if (++this.#takes % SWEEP_EVERY === 0) {
      void sql`delete from rate_buckets where at < ${now - BUCKET_SWEEP_AGE_MS}::bigint`.execute(this.handle.db).catch(() => {});
    }
    const row = rows[0]!;
    return { granted: row.granted === 1, tokens: Number(row.tokens) };
  }

  async lockedUntil(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const { rows } = await sql<{ until: number | null }>`
      select max(locked_until) as until from sign_in_failures where key in (${sql.join(keys)})`.execute(this.handle.db);
    return Number(rows[0]?.until ?? 0);
  }

  async fail(rules: readonly FailureRule[], now: number): Promise<void> {
    const at = sql`${now}::bigint`;
    const expired = sql`(${at} - f.first > ${FAILURE_WINDOW_MS})`;
    const count = sql`(case when ${expired} then 1 else f.count + 1 end)`;
    for (const { key, limit } of rules) {
      await sql`
        insert into sign_in_failures as f (key, count, first, locked_until)
        values (${key}, 1, ${at}, ${limit <= 1 ? now + LOCKOUT_MS : 0}::bigint)
        on conflict (key) do update set
          count = ${count},
          first = case when ${expired} then ${at} else f.first end,
          locked_until = case when ${count} >= ${limit} then ${at} + ${LOCKOUT_MS} when ${expired} then 0 else f.locked_until end`.execute(this.handle.db);
    }
    if (Math.random() < 0.01) {
      void sql`delete from sign_in_failures where first < ${now - FAILURE_WINDOW_MS - LOCKOUT_MS}::bigint and locked_until < ${now}::bigint`.execute(this.handle.db).catch(() => {});
    }
  }

  async succeed(key: string): Promise<void> {
    await sql`delete from sign_in_failures where key = ${key}`.execute(this.handle.db);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
