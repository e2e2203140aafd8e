import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ClaimedJob, JobInfo, JobQueue, NewJob } from '../../../core/ports/job-queue.js';
import type { ScanSchema } from '../migrations/scan-schema.js';
import type { Statements } from './statements.js';

/**
 * The job queue over the `jobs` table (layout in migration 0008). Each operation is one
 * synchronous better-sqlite3 transaction, so a claim's select-then-update cannot interleave with
 * another claim in this process, and `BEGIN IMMEDIATE` serialises it against other processes.
 */
export class SqliteJobQueue implements JobQueue {
  constructor(
    private readonly db: Kysely<ScanSchema>,
    private readonly sql: Statements,
    private readonly now: () => number = Date.now,
  ) {}

  async enqueue(job: NewJob, signal: AbortSignal): Promise<{ id: string; created: boolean }> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      if (job.dedupeKey !== undefined) {
        const existing = this.sql.get(this.db.selectFrom('jobs').select(['id', 'state'])
          .where('kind', '=', job.kind).where('dedupe_key', '=', job.dedupeKey));
        if (existing && existing.state !== 'failed') return { id: existing.id, created: false };
        // A failed job keeps its row for inspection but must not block a new attempt.
        if (existing) this.sql.run(this.db.updateTable('jobs').set({ dedupe_key: null }).where('id', '=', existing.id));
      }
      const id = randomUUID();
      const at = this.now();
      this.sql.run(this.db.insertInto('jobs').values({
        id, kind: job.kind, payload: JSON.stringify(job.payload ?? null), dedupe_key: job.dedupeKey ?? null,
        state: 'queued', attempts: 0, run_after: job.runAfter?.getTime() ?? at, lease_owner: null, lease_until: null,
        error: null, created_at: at,
      }));
      return { id, created: true };
    });
  }

  async claim(kinds: readonly string[], worker: string, leaseMs: number, signal: AbortSignal): Promise<ClaimedJob | undefined> {
    signal.throwIfAborted();
    if (kinds.length === 0) return undefined;
    return this.sql.write(() => {
      const at = this.now();
      const row = this.sql.get(this.db.selectFrom('jobs').select(['id', 'kind', 'payload', 'attempts'])
        .where('kind', 'in', [...kinds])
        .where((eb) => eb.or([
          eb.and([eb('state', '=', 'queued'), eb('run_after', '<=', at)]),
          eb.and([eb('state', '=', 'running'), eb('lease_until', '<', at)]),
        ]))
        .orderBy('run_after').orderBy('created_at').limit(1));
      if (!row) return undefined;
      const leaseUntil = at + leaseMs;
      this.sql.run(this.db.updateTable('jobs')
        .set({ state: 'running', lease_owner: worker, lease_until: leaseUntil, attempts: row.attempts + 1 })
        .where('id', '=', row.id));
      return { id: row.id, kind: row.kind, payload: JSON.parse(row.payload) as unknown, attempts: row.attempts + 1, leaseUntil: new Date(leaseUntil) };
    });
  }

  async extend(id: string, worker: string, leaseMs: number, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.held(id, worker).set({ lease_until: this.now() + leaseMs })) === 1;
  }

  async complete(id: string, worker: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('jobs').where('id', '=', id).where('state', '=', 'running').where('lease_owner', '=', worker)) === 1;
  }

  async fail(id: string, worker: string, error: string, retryAt: Date | undefined, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    const q = retryAt
      ? this.held(id, worker).set({ state: 'queued', run_after: retryAt.getTime(), lease_owner: null, lease_until: null, error })
      : this.held(id, worker).set({ state: 'failed', lease_owner: null, lease_until: null, error });
    return this.sql.run(q) === 1;
  }

  async get(id: string, signal: AbortSignal): Promise<JobInfo | undefined> {
    signal.throwIfAborted();
    const r = this.sql.get(this.db.selectFrom('jobs').selectAll().where('id', '=', id));
    if (!r) return undefined;
    return {
      id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as unknown, state: r.state as JobInfo['state'],
      attempts: r.attempts, runAfter: new Date(r.run_after), ...(r.error !== null ? { error: r.error } : {}),
    };
  }

  async pending(kind: string, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const r = this.sql.get(this.db.selectFrom('jobs').select(({ fn }) => fn.countAll<number>().as('n'))
      .where('kind', '=', kind).where('state', 'in', ['queued', 'running']));
    return Number(r?.n ?? 0);
  }

  /** An update of job `id` only while `worker` holds its lease. */
  private held(id: string, worker: string) {
    return this.db.updateTable('jobs').where('id', '=', id).where('state', '=', 'running').where('lease_owner', '=', worker);
  }
}
