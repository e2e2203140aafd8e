/**
 * A durable queue of background work (scans today; lifecycle, replication later), kept in the
 * metadata database so jobs survive restarts and any node may run any job.
 *
 * ```
 *   enqueue ──▶ [queued] ──claim(lease)──▶ [running, lease_until] ──complete──▶ (row deleted)
 *                  ▲                            │      │
 *                  │   lease expired (crash) ◀──┘      └──fail(retryAt)──▶ [queued, run_after]
 *                  │                                   └──fail()────────▶ [failed]  (kept, with error)
 * ```
 *
 * A claim takes the oldest due job of the given kinds and leases it to one worker until
 * `leaseUntil`; a worker that dies leaves a lease that expires, after which another claim takes
 * the job again (at-least-once: handlers must be idempotent). The SQLite implementation claims in
 * one `BEGIN IMMEDIATE` transaction; a PostgreSQL one claims with `FOR UPDATE SKIP LOCKED`, which
 * is why claim takes no "peek then update" shape.
 */
export interface JobQueue {
  /**
   * Adds a job. With `dedupeKey`, a job of the same kind and key that is still queued or running
   * is returned instead (`created: false`), so repeated triggers do not pile up. Visible to claims
   * once the promise resolves. `runAfter` delays the first claim.
   */
  enqueue(job: NewJob, signal: AbortSignal): Promise<{ id: string; created: boolean }>;

  /**
   * Leases the oldest due job (queued with `runAfter <= now`, or running with an expired lease)
   * of one of `kinds` to `worker` for `leaseMs`, incrementing its attempt count. Resolves with
   * `undefined` when none is due. Never hands one job to two workers at once.
   */
  claim(kinds: readonly string[], worker: string, leaseMs: number, signal: AbortSignal): Promise<ClaimedJob | undefined>;

  /** Extends the lease of a job `worker` holds; resolves `false` when it no longer holds it. */
  extend(id: string, worker: string, leaseMs: number, signal: AbortSignal): Promise<boolean>;

  /** Removes a finished job `worker` holds; resolves `false` when it no longer held it (lease lost). */
  complete(id: string, worker: string, signal: AbortSignal): Promise<boolean>;

  /**
   * Records a failure of a job `worker` holds: with `retryAt` it is queued again for then, else it
   * stays as `failed` with `error` (listed by {@link get}, never claimed again). Resolves `false`
   * when the lease was lost.
   */
  fail(id: string, worker: string, error: string, retryAt: Date | undefined, signal: AbortSignal): Promise<boolean>;

  /** The job, or `undefined` once completed (or never enqueued). */
  get(id: string, signal: AbortSignal): Promise<JobInfo | undefined>;

  /** Number of queued or running jobs of `kind` (for metrics and tests). */
  pending(kind: string, signal: AbortSignal): Promise<number>;
}

export interface NewJob {
  kind: string;
  /** JSON-serialisable input of the handler. */
  payload: unknown;
  dedupeKey?: string;
  runAfter?: Date;
}

export interface ClaimedJob {
  id: string;
  kind: string;
  payload: unknown;
  /** 1 on the first claim. */
  attempts: number;
  leaseUntil: Date;
}

export interface JobInfo {
  id: string;
  kind: string;
  payload: unknown;
  state: 'queued' | 'running' | 'failed';
  attempts: number;
  error?: string;
  runAfter: Date;
}
