import { fail } from '../core/errors.js';
import { MemoryTokenBuckets } from '../core/memory-limits.js';
import type { BucketConfig, TokenBuckets } from '../core/ports/shared-limits.js';

export type { BucketConfig } from '../core/ports/shared-limits.js';

/**
 * Token buckets for pulls of public repositories, one per client key (the client address for
 * anonymous callers, the principal for logged-in ones), as ECR Public limits them. The buckets live
 * in a {@link TokenBuckets} store: process memory for one node, the shared PostgreSQL table when
 * several nodes serve one registry (so the limit holds whichever node a pull lands on).
 */
export class PullRateLimiter {
  constructor(
    private readonly anonymous: BucketConfig,
    private readonly authenticated: BucketConfig,
    private readonly now: () => number = Date.now,
    private readonly buckets: TokenBuckets = new MemoryTokenBuckets(),
  ) {}

  /** Takes one pull; throws `TooManyRequests` with `retryAfterSeconds` in its detail when the bucket is empty. */
  async take(key: string, authenticated: boolean, signal: AbortSignal = AbortSignal.timeout(5000)): Promise<void> {
    const cfg = authenticated ? this.authenticated : this.anonymous;
    const { granted, tokens } = await this.buckets.take(`${authenticated ? 'a' : 'n'}:${key}`, cfg, this.now(), signal);
    if (granted) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / cfg.perSecond));
    throw fail('TooManyRequests', `pull rate limit exceeded for ${authenticated ? 'this principal' : 'anonymous pulls from this address'}; retry after ${retryAfterSeconds} s${authenticated ? '' : ' or log in for a higher limit'}`, { retryAfterSeconds });
  }
}
