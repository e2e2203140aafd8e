import type { ClaimedJob, JobQueue } from '../ports/job-queue.js';

/** A handler's way of asking for another attempt later (an outage, not a bad input). */
export class RetryableJobError extends Error {
  override readonly name = 'RetryableJobError';
}

export type JobHandler = (job: ClaimedJob, signal: AbortSignal) => Promise<void>;

export interface JobRunnerOptions {
  /** Unique per process: leases are held in its name. */
  workerId: string;
  /** Jobs run at once by this process. */
  concurrency: number;
  /** How often an idle runner looks for due jobs (a local enqueue wakes it at once via {@link JobRunner.poke}). */
  pollMs: number;
  /** Lease length; renewed at a third of it while a job runs. */
  leaseMs: number;
  /** Attempts before a retryable failure becomes permanent. */
  maxAttempts: number;
  onError?: (err: unknown, job: ClaimedJob) => void;
}

/**
 * Runs jobs of the kinds it has handlers for from a {@link JobQueue}: claims with a lease, keeps
 * the lease alive while the handler runs, completes on success, retries `RetryableJobError` and
 * unknown errors with exponential back-off up to `maxAttempts`, then leaves the job `failed`.
 * Feature-neutral: scanning uses it now; lifecycle and replication can register their own kinds.
 */
export class JobRunner {
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #again = false;

  constructor(private readonly queue: JobQueue, private readonly handlers: Readonly<Record<string, JobHandler>>, private readonly opts: JobRunnerOptions) {}

  /**
   * Polls every `pollMs`, the first time one interval after start: claiming is a write transaction,
   * and a server answers its first request sooner without it (issue 12). Jobs enqueued by this
   * process are picked up at once anyway (`poke`); others wait at most one interval, as always.
   */
  start(): void {
    this.#timer = setInterval(() => this.poke(), this.opts.pollMs);
    this.#timer.unref();
  }

  /** Looks for due jobs now (call after enqueueing locally). */
  poke(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void this.#pump().finally(() => {
      this.#pumping = false;
      if (this.#again) {
        this.#again = false;
        this.poke();
      }
    });
  }

  /** Stops claiming, aborts running handlers and waits for them; their leases lapse for another node. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stop.abort(new Error('job runner stopped'));
    await Promise.allSettled([...this.#running]);
  }

  /** Resolves when no job is running (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#pumping) await Promise.allSettled([...this.#running, new Promise((r) => setTimeout(r, 10))]);
  }

  async #pump(): Promise<void> {
    const kinds = Object.keys(this.handlers);
    while (this.#running.size < this.opts.concurrency && !this.#stop.signal.aborted) {
      let job: ClaimedJob | undefined;
      try {
        job = await this.queue.claim(kinds, this.opts.workerId, this.opts.leaseMs, this.#stop.signal);
      } catch {
        return;
      }
      if (!job) return;
      const p = this.#run(job).finally(() => {
        this.#running.delete(p);
        this.poke();
      });
      this.#running.add(p);
    }
  }

  async #run(job: ClaimedJob): Promise<void> {
    const signal = this.#stop.signal;
    const keepAlive = setInterval(() => {
      void this.queue.extend(job.id, this.opts.workerId, this.opts.leaseMs, signal).catch(() => {});
    }, Math.max(1000, Math.floor(this.opts.leaseMs / 3)));
    try {
      await this.handlers[job.kind]!(job, signal);
      await this.queue.complete(job.id, this.opts.workerId, AbortSignal.timeout(10_000));
    } catch (err) {
      if (signal.aborted) return;
      this.opts.onError?.(err, job);
      const message = err instanceof Error ? err.message : String(err);
      const retryAt = job.attempts < this.opts.maxAttempts ? new Date(Date.now() + 1000 * 2 ** job.attempts) : undefined;
      await this.queue.fail(job.id, this.opts.workerId, message, retryAt, AbortSignal.timeout(10_000)).catch(() => {});
    } finally {
      clearInterval(keepAlive);
    }
  }
}
