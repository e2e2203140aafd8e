/**
 * Rate and abuse state that every node of a registry must see the same (issue 11): pull-rate token
 * buckets (ECR Public) and console sign-in failure counters. One node (or `--workers` on SQLite,
 * where each worker counts for itself) keeps them in memory; nodes on PostgreSQL share a table.
 */

export interface BucketConfig {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: how many takes may come at once after a quiet spell. */
  burst: number;
}

export interface TokenBuckets {
  /**
   * Refills bucket `id` (full when new) for the time since its last take, then takes one token if
   * at least one is there. Atomic per bucket across nodes. Resolves whether a token was taken and
   * the tokens left (below 1 when refused). Throws only when the store cannot be reached.
   */
  take(id: string, cfg: BucketConfig, now: number, signal: AbortSignal): Promise<{ granted: boolean; tokens: number }>;
}

/** Failure counting of one key: up to `limit` failures within the window, then locked for a while. */
export interface FailureRule {
  key: string;
  limit: number;
}

/** Sign-in failures: counted per key within {@link FAILURE_WINDOW_MS}; reaching the limit locks for {@link LOCKOUT_MS}. */
export interface SignInFailures {
  /** The latest `lockedUntil` (epoch ms) of `keys`, 0 when none is locked. */
  lockedUntil(keys: readonly string[], signal: AbortSignal): Promise<number>;
  /** Counts one failure for each key (a window older than {@link FAILURE_WINDOW_MS} starts over). Atomic per key. */
  fail(rules: readonly FailureRule[], now: number, signal: AbortSignal): Promise<void>;
  /** Forgets a key's failures (a successful sign-in). Idempotent. */
  succeed(key: string, signal: AbortSignal): Promise<void>;
}

export const FAILURE_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_MS = 5 * 60_000;
