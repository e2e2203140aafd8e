import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ClaimedJob, JobInfo, JobQueue, NewJob } from '../../../core/ports/job-queue.js';
import type { ScanSchema } from '../migrations/scan-schema.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { serializable } from './pg-tx.js';

/** Opens the job queue on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresJobQueue(opts: { url: string; poolSize: number }, now: () => number = Date.now): Promise<PgJobQueue> {
  return new PgJobQueue(await leasePostgres(opts), now);
}

/**
 * The job queue over the `jobs` table (layout in migration 0008) shared by every node.
 *
 * A claim is ONE statement: the inner `SELECT … FOR UPDATE SKIP LOCKED` row-locks the oldest due
 * job and passes over jobs another node's claim has locked, and the outer UPDATE leases it. Two
 * nodes claiming at once therefore take different jobs without waiting on each other, and never
 * the same one (the second would have to lock a row the first holds until its commit, and by then
 * the row no longer matches "due"). The times come from this node's clock (`now`), as in SQLite;
 * nodes are expected to keep their clocks in sync (NTP), lease lengths are minutes.
 */
export class PgJobQueue implements JobQueue {
  readonly #db: Kysely<ScanSchema>;

  /** Use {@link openPostgresJobQueue}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle, private readonly now: () => number = Date.now) {
    this.#db = handle.db as unknown as Kysely<ScanSchema>;
  }

  async enqueue(job: NewJob, signal: AbortSignal): Promise<{ id: string; created: boolean }> {
    signal.throwIfAborted();
    // SERIALIZABLE: two nodes enqueueing one dedupe key at once end with one job (the loser's retry finds it).
    return serializable(this.#db, async (trx) => {
      if (job.dedupeKey !== undefined) {
        const existing = await trx.selectFrom('jobs').select(['id', 'state'])
          .where('kind', '=', job.kind).where('dedupe_key', '=', job.dedupeKey).executeTakeFirst();
        if (existing && existing.state !== 'failed') return { id: existing.id, created: false };
        // A failed job keeps its row for inspection but must not block a new attempt.
        if (existing) await trx.updateTable('jobs').set({ dedupe_key: null }).where('id', '=', existing.id).execute();
      }
      const id = randomUUID();
      const at = this.now();
      await trx.insertInto('jobs').values({
        id, kind: job.kind, payload: JSON.stringify(job.payload ?? null), dedupe_key: job.dedupeKey ?? null,
        state: 'queued', attempts: 0, run_after: job.runAfter?.getTime() ?? at, lease_owner: null, lease_until: null,
        error: null, created_at: at,
      }).execute();
      return { id, created: true };
    });
  }

  async claim(kinds: readonly string[], worker: string, leaseMs: number, signal: AbortSignal): Promise<ClaimedJob | undefined> {
    signal.throwIfAborted();
    if (kinds.length === 0) return undefined;
    const at = this.now();
    const leaseUntil = at + leaseMs;
    const row = await this.#db.updateTable('jobs')
      .set((eb) => ({ state: 'running', lease_owner: worker, lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', (eb) => eb.selectFrom('jobs').select('id')
        .where('kind', 'in', [...kinds])
        .where((w) => w.or([
          w.and([w('state', '=', 'queued'), w('run_after', '<=', at)]),
          w.and([w('state', '=', 'running'), w('lease_until', '<', at)]),
        ]))
        .orderBy('run_after').orderBy('created_at').limit(1)
        .forUpdate().skipLocked())
      .returning(['id', 'kind', 'payload', 'attempts'])
      .executeTakeFirst();
    if (!row) return undefined;
    return { id: row.id, kind: row.kind, payload: JSON.parse(row.payload) as unknown, attempts: row.attempts, leaseUntil: new Date(leaseUntil) };
  }

  async extend(id: string, worker: string, leaseMs: number, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const r = await this.#held(id, worker).set({ lease_until: this.now() + leaseMs }).executeTakeFirst();
    return r.numUpdatedRows === 1n;
  }

  async complete(id: string, worker: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const r = await this.#db.deleteFrom('jobs').where('id', '=', id).where('state', '=', 'running').where('lease_owner', '=', worker).executeTakeFirst();
    return r.numDeletedRows === 1n;
  }

  async fail(id: string, worker: string, error: string, retryAt: Date | undefined, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const q = retryAt
      ? this.#held(id, worker).set({ state: 'queued', run_after: retryAt.getTime(), lease_owner: null, lease_until: null, error })
      : this.#held(id, worker).set({ state: 'failed', lease_owner: null, lease_until: null, error });
    return (await q.executeTakeFirst()).numUpdatedRows === 1n;
  }

  async get(id: string, signal: AbortSignal): Promise<JobInfo | undefined> {
    signal.throwIfAborted();
    const r = await this.#db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    return {
      id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as unknown, state: r.state as JobInfo['state'],
      attempts: r.attempts, runAfter: new Date(r.run_after), ...(r.error !== null ? { error: r.error } : {}),
    };
  }

  async pending(kind: string, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const r = await this.#db.selectFrom('jobs').select(({ fn }) => fn.countAll<number>().as('n'))
      .where('kind', '=', kind).where('state', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Releases this queue's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }

  /** An update of job `id` only while `worker` holds its lease. */
  #held(id: string, worker: string) {
    return this.#db.updateTable('jobs').where('id', '=', id).where('state', '=', 'running').where('lease_owner', '=', worker);
  }
}
