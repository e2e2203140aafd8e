import { fail } from '../core/errors.js';

export interface BucketConfig {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: how many pulls may come at once after a quiet spell. */
  burst: number;
}

/**
 * Token buckets for pulls of public repositories, one per client key (the client address for
 * anonymous callers, the principal for logged-in ones), as ECR Public limits them.
 *
 * Kept in process memory: with `--workers N` each worker has its own buckets, so the effective
 * limit is up to N times the configured one (documented in docs/public.md). Buckets idle long
 * enough to be full again are dropped, so memory stays bounded by the recently active clients.
 */
export class PullRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly anonymous: BucketConfig, private readonly authenticated: BucketConfig, private readonly now: () => number = Date.now) {}

  /** Takes one pull; throws `TooManyRequests` with `retryAfterSeconds` in its detail when the bucket is empty. */
  take(key: string, authenticated: boolean): void {
    const cfg = authenticated ? this.authenticated : this.anonymous;
    const now = this.now();
    const id = `${authenticated ? 'a' : 'n'}:${key}`;
    const b = this.#buckets.get(id) ?? { tokens: cfg.burst, at: now };
    b.tokens = Math.min(cfg.burst, b.tokens + ((now - b.at) / 1000) * cfg.perSecond);
    b.at = now;
    if (b.tokens < 1) {
      this.#buckets.set(id, b);
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / cfg.perSecond));
      throw fail('TooManyRequests', `pull rate limit exceeded for ${authenticated ? 'this principal' : 'anonymous pulls from this address'}; retry after ${retryAfterSeconds} s${authenticated ? '' : ' or log in for a higher limit'}`, { retryAfterSeconds });
    }
    b.tokens -= 1;
    this.#buckets.set(id, b);
    if (this.#buckets.size > 50_000) this.#sweep(now);
  }

  #sweep(now: number): void {
    for (const [id, b] of this.#buckets) {
      const cfg = id.startsWith('a:') ? this.authenticated : this.anonymous;
      if (b.tokens + ((now - b.at) / 1000) * cfg.perSecond >= cfg.burst) this.#buckets.delete(id);
    }
  }
}
