import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LOCKOUT_MS, type SignInFailures, type TokenBuckets } from '../../src/core/ports/shared-limits.js';

/** Every implementation of the shared rate/abuse state passes these (memory, PostgreSQL). */
export function sharedLimitsContract(open: () => Promise<{ buckets: TokenBuckets; failures: SignInFailures; close(): Promise<void> }>): void {
  const signal = AbortSignal.timeout(60_000);
  const cfg = { perSecond: 2, burst: 3 };

  it('a new bucket is full: grants the burst, then refuses with what is left', async () => {
    const s = await open();
    try {
      for (let i = 0; i < 3; i++) assert.equal((await s.buckets.take('n:1.2.3.4', cfg, 1000, signal)).granted, true, `take ${i}`);
      const refused = await s.buckets.take('n:1.2.3.4', cfg, 1000, signal);
      assert.equal(refused.granted, false);
      assert.ok(refused.tokens < 1);
      assert.equal((await s.buckets.take('n:5.6.7.8', cfg, 1000, signal)).granted, true, 'another key has its own bucket');
    } finally {
      await s.close();
    }
  });

  it('refills at the rate, never above the burst', async () => {
    const s = await open();
    try {
      for (let i = 0; i < 3; i++) await s.buckets.take('k', cfg, 0, signal);
      assert.equal((await s.buckets.take('k', cfg, 0, signal)).granted, false);
      assert.equal((await s.buckets.take('k', cfg, 500, signal)).granted, true, 'half a second at 2/s adds one');
      assert.equal((await s.buckets.take('k', cfg, 500, signal)).granted, false);
      const later = await s.buckets.take('k', cfg, 3_600_000, signal);
      assert.equal(later.granted, true);
      assert.equal(later.tokens, 2, 'capped at the burst, minus this take');
    } finally {
      await s.close();
    }
  });

  it('concurrent takes of one bucket lose no update: exactly the burst is granted', async () => {
    const s = await open();
    try {
      const big = { perSecond: 0.001, burst: 10 };
      const results = await Promise.all(Array.from({ length: 25 }, () => s.buckets.take('race', big, 5000, signal)));
      assert.equal(results.filter((r) => r.granted).length, 10);
    } finally {
      await s.close();
    }
  });

  it('sign-in failures lock a key at its limit for the lockout; success clears; other keys stay open', async () => {
    const s = await open();
    try {
      const now = 1_000_000;
      for (let i = 0; i < 4; i++) await s.failures.fail([{ key: 'ip|acct|bob', limit: 5 }, { key: 'ip', limit: 20 }], now + i, signal);
      assert.equal(await s.failures.lockedUntil(['ip|acct|bob', 'ip'], signal), 0, 'four failures: not locked');
      await s.failures.fail([{ key: 'ip|acct|bob', limit: 5 }, { key: 'ip', limit: 20 }], now + 10, signal);
      assert.equal(await s.failures.lockedUntil(['ip|acct|bob', 'ip'], signal), now + 10 + LOCKOUT_MS);
      assert.equal(await s.failures.lockedUntil(['ip|acct|alice'], signal), 0);
      await s.failures.succeed('ip|acct|bob', signal);
      assert.equal(await s.failures.lockedUntil(['ip|acct|bob'], signal), 0);
      assert.equal(await s.failures.lockedUntil([], signal), 0);
    } finally {
      await s.close();
    }
  });

  it('a failure window that is over starts counting again', async () => {
    const s = await open();
    try {
      for (let i = 0; i < 4; i++) await s.failures.fail([{ key: 'k', limit: 5 }], 0, signal);
      await s.failures.fail([{ key: 'k', limit: 5 }], 16 * 60_000, signal);
      assert.equal(await s.failures.lockedUntil(['k'], signal), 0, 'the fifth failure came after the window: count restarted');
    } finally {
      await s.close();
    }
  });
}
