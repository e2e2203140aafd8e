/**
 * The JobQueue contract every implementation passes (SQLite today; PostgreSQL with FOR UPDATE SKIP
 * LOCKED later). `open` returns a queue and a clock the test can move, and may be called twice on
 * the same database (`reopen`) to prove jobs survive a restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobQueue } from '../../src/core/ports/job-queue.js';

export interface QueueFactory {
  /** A fresh queue whose clock reads `clock.now`. */
  open(clock: { now: number }): Promise<{ queue: JobQueue; reopen(): Promise<JobQueue>; close(): Promise<void> }>;
}

const s = (): AbortSignal => AbortSignal.timeout(10_000);

export function jobQueueContract(name: string, factory: QueueFactory): void {
  describe(`JobQueue contract: ${name}`, () => {
    it('hands a job to one worker only, with its payload, and forgets it once completed', async () => {
      const clock = { now: 1_000 };
      const { queue, close } = await factory.open(clock);
      try {
        const { id, created } = await queue.enqueue({ kind: 'k', payload: { a: 1 } }, s());
        assert.equal(created, true);
        const job = await queue.claim(['k'], 'w1', 60_000, s());
        assert.deepEqual({ id: job?.id, payload: job?.payload, attempts: job?.attempts }, { id, payload: { a: 1 }, attempts: 1 });
        assert.equal(await queue.claim(['k'], 'w2', 60_000, s()), undefined, 'a leased job is not handed out twice');
        assert.equal(await queue.pending('k', s()), 1);
        assert.equal(await queue.complete(id, 'w2', s()), false, 'only the holder completes');
        assert.equal(await queue.complete(id, 'w1', s()), true);
        assert.equal(await queue.get(id, s()), undefined);
        assert.equal(await queue.pending('k', s()), 0);
      } finally {
        await close();
      }
    });

    it('claims only the asked kinds, oldest due first, and respects runAfter', async () => {
      const clock = { now: 1_000 };
      const { queue, close } = await factory.open(clock);
      try {
        await queue.enqueue({ kind: 'later', payload: 1, runAfter: new Date(5_000) }, s());
        clock.now = 1_001;
        const a = await queue.enqueue({ kind: 'k', payload: 'a' }, s());
        clock.now = 1_002;
        await queue.enqueue({ kind: 'k', payload: 'b' }, s());
        await queue.enqueue({ kind: 'other', payload: 'x' }, s());
        assert.equal((await queue.claim(['k'], 'w', 1_000, s()))?.id, a.id);
        assert.equal((await queue.claim(['k'], 'w', 1_000, s()))?.payload, 'b');
        assert.equal(await queue.claim(['later'], 'w', 1_000, s()), undefined, 'not due yet');
        clock.now = 5_000;
        assert.equal((await queue.claim(['later'], 'w', 1_000, s()))?.payload, 1);
      } finally {
        await close();
      }
    });

    it('deduplicates pending jobs by key, but not once the first one is done', async () => {
      const clock = { now: 1_000 };
      const { queue, close } = await factory.open(clock);
      try {
        const first = await queue.enqueue({ kind: 'k', payload: 1, dedupeKey: 'img' }, s());
        const again = await queue.enqueue({ kind: 'k', payload: 2, dedupeKey: 'img' }, s());
        assert.deepEqual(again, { id: first.id, created: false });
        const job = await queue.claim(['k'], 'w', 1_000, s());
        assert.equal((await queue.enqueue({ kind: 'k', payload: 3, dedupeKey: 'img' }, s())).created, false, 'still running counts as pending');
        await queue.complete(job!.id, 'w', s());
        assert.equal((await queue.enqueue({ kind: 'k', payload: 4, dedupeKey: 'img' }, s())).created, true);
      } finally {
        await close();
      }
    });

    it('gives an expired lease to another worker (a crashed worker), which then owns it', async () => {
      const clock = { now: 1_000 };
      const { queue, close } = await factory.open(clock);
      try {
        const { id } = await queue.enqueue({ kind: 'k', payload: null }, s());
        await queue.claim(['k'], 'dead', 500, s());
        clock.now = 1_400;
        assert.equal(await queue.extend(id, 'dead', 500, s()), true, 'the holder may extend before expiry');
        clock.now = 1_800;
        assert.equal(await queue.claim(['k'], 'w2', 500, s()), undefined, 'extended lease still held');
        clock.now = 2_000 + 1_000;
        const job = await queue.claim(['k'], 'w2', 500, s());
        assert.equal(job?.attempts, 2);
        assert.equal(await queue.complete(id, 'dead', s()), false, 'the old holder lost it');
        assert.equal(await queue.complete(id, 'w2', s()), true);
      } finally {
        await close();
      }
    });

    it('retries a failure at retryAt and keeps a final failure with its error', async () => {
      const clock = { now: 1_000 };
      const { queue, close } = await factory.open(clock);
      try {
        const { id } = await queue.enqueue({ kind: 'k', payload: null }, s());
        await queue.claim(['k'], 'w', 1_000, s());
        assert.equal(await queue.fail(id, 'w', 'flaky', new Date(3_000), s()), true);
        assert.equal(await queue.claim(['k'], 'w', 1_000, s()), undefined);
        clock.now = 3_000;
        const again = await queue.claim(['k'], 'w', 1_000, s());
        assert.equal(again?.attempts, 2);
        await queue.fail(id, 'w', 'broken for good', undefined, s());
        const info = await queue.get(id, s());
        assert.deepEqual([info?.state, info?.error, info?.attempts], ['failed', 'broken for good', 2]);
        clock.now = 100_000;
        assert.equal(await queue.claim(['k'], 'w', 1_000, s()), undefined, 'failed jobs are never claimed');
        assert.equal(await queue.pending('k', s()), 0);
      } finally {
        await close();
      }
    });

    it('keeps queued and leased jobs across a restart', async () => {
      const clock = { now: 1_000 };
      const { queue, reopen, close } = await factory.open(clock);
      try {
        const running = await queue.enqueue({ kind: 'k', payload: 'running' }, s());
        clock.now = 1_001;
        const queued = await queue.enqueue({ kind: 'k', payload: 'queued' }, s());
        assert.equal((await queue.claim(['k'], 'before-crash', 1_000, s()))?.id, running.id);
        const after = await reopen();
        assert.equal(await after.pending('k', s()), 2);
        assert.equal((await after.claim(['k'], 'after', 1_000, s()))?.id, queued.id, 'the queued job is still there');
        assert.equal(await after.claim(['k'], 'after', 1_000, s()), undefined, 'the leased job waits for its lease to lapse');
        clock.now = 10_000;
        assert.equal((await after.claim(['k'], 'after', 1_000, s()))?.id, running.id);
      } finally {
        await close();
      }
    });
  });
}
