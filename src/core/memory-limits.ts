import { FAILURE_WINDOW_MS, LOCKOUT_MS, type BucketConfig, type FailureRule, type SignInFailures, type TokenBuckets } from './ports/shared-limits.js';

/**
 * Token buckets in process memory (one node; with `--workers N` each worker has its own, so the
 * effective limit is up to N times the configured one). Buckets idle long enough to be full again
 * are dropped, so memory stays bounded by the recently active clients.
 */
export class MemoryTokenBuckets implements TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number; cfg: BucketConfig }>();

  take(id: string, cfg: BucketConfig, now: number): Promise<{ granted: boolean; tokens: number }> {
    const b = this.#buckets.get(id) ?? { tokens: cfg.burst, at: now, cfg };
    b.tokens = Math.min(cfg.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * cfg.perSecond);
    b.at = now;
    const granted = b.tokens >= 1;
    if (granted) b.tokens -= 1;
    this.#buckets.set(id, b);
    if (this.#buckets.size > 50_000) this.#sweep(now);
    return Promise.resolve({ granted, tokens: b.tokens });
  }

  #sweep(now: number): void {
    for (const [id, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * b.cfg.perSecond >= b.cfg.burst) this.#buckets.delete(id);
    }
  }
}

/** Sign-in failure counters in process memory, bounded by clearing when past 10,000 keys. */
export class MemorySignInFailures implements SignInFailures {
  readonly #fails = new Map<string, { count: number; first: number; lockedUntil: number }>();

  lockedUntil(keys: readonly string[]): Promise<number> {
    return Promise.resolve(Math.max(0, ...keys.map((k) => this.#fails.get(k)?.lockedUntil ?? 0)));
  }

  fail(rules: readonly FailureRule[], now: number): Promise<void> {
    if (this.#fails.size > 10_000) this.#fails.clear();
    for (const { key, limit } of rules) {
      const e = this.#fails.get(key);
      const fresh = !e || now - e.first > FAILURE_WINDOW_MS;
      const next = fresh ? { count: 1, first: now, lockedUntil: 0 } : { ...e, count: e.count + 1 };
      if (next.count >= limit) next.lockedUntil = now + LOCKOUT_MS;
      this.#fails.set(key, next);
    }
    return Promise.resolve();
  }

  succeed(key: string): Promise<void> {
    this.#fails.delete(key);
    return Promise.resolve();
  }
}
