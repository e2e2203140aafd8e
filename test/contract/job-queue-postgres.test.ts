import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { JobQueue } from '../../src/core/ports/job-queue.js';
import { openPostgresJobQueue, type PgJobQueue } from '../../src/storage/meta/postgres/pg-job-queue.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';
import { jobQueueContract } from './job-queue.contract.js';

const skip = skipReason(POSTGRES_SKIP);
const databases = migratedDatabases();
after(() => databases.dropAll());

/**
 * A pool of its own on `url`: leasePostgres shares one pool per URL, so a distinct application_name
 * gives another pool on the same database, which is what another node (or a restarted one) has.
 */
const node = (url: string, name: string, now?: () => number) =>
  openPostgresJobQueue({ url: `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`, poolSize: 4 }, now);

if (!skip) {
  jobQueueContract('PostgreSQL (reopened on a new pool)', {
    async open(clock) {
      const { url } = await databases.fresh();
      const queues: PgJobQueue[] = [];
      let n = 0;
      const make = async () => {
        const q = await node(url, `q${++n}`, () => clock.now);
        queues.push(q);
        return q;
      };
      const queue = await make();
      return {
        queue,
        reopen: make,
        async close() {
          for (const q of queues) await q.close();
        },
      };
    },
  });
}

describe('PgJobQueue on two nodes', { skip }, () => {
  it('two nodes (two pools) claiming concurrently from many jobs claim every job exactly once', async () => {
    const { url } = await databases.fresh();
    const a = await node(url, 'node-a');
    const b = await node(url, 'node-b');
    try {
      const s = AbortSignal.timeout(120_000);
      const ids = new Set<string>();
      for (let i = 0; i < 300; i++) ids.add((await a.enqueue({ kind: 'scan', payload: i }, s)).id);
      const claimed: Record<string, string[]> = { a: [], b: [] };
      // Four claim loops per node, each on its own pooled connection, all racing for the same rows.
      const loop = async (queue: JobQueue, who: 'a' | 'b', worker: string) => {
        for (;;) {
          const job = await queue.claim(['scan'], worker, 600_000, s);
          if (!job) return;
          claimed[who]!.push(job.id);
          assert.equal(job.attempts, 1, `job ${job.id} was claimed before`);
        }
      };
      await Promise.all([0, 1, 2, 3].flatMap((w) => [loop(a, 'a', `a${w}`), loop(b, 'b', `b${w}`)]));
      const all = [...claimed.a!, ...claimed.b!];
      assert.equal(all.length, ids.size, 'every job claimed once, none twice');
      assert.deepEqual(new Set(all), ids);
      assert.ok(claimed.a!.length > 0 && claimed.b!.length > 0, `both nodes claimed (a ${claimed.a!.length}, b ${claimed.b!.length})`);
      assert.equal(await b.pending('scan', s), 300, 'all leased, none lost');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two nodes enqueueing one dedupe key at once end with one job', async () => {
    const { url } = await databases.fresh();
    const a = await node(url, 'node-a');
    const b = await node(url, 'node-b');
    try {
      const s = AbortSignal.timeout(60_000);
      for (let round = 0; round < 10; round++) {
        const key = `img-${round}`;
        const results = await Promise.all([a, b, a, b].map((q, i) => q.enqueue({ kind: 'scan', payload: i, dedupeKey: key }, s)));
        assert.equal(results.filter((r) => r.created).length, 1, JSON.stringify(results));
        assert.equal(new Set(results.map((r) => r.id)).size, 1);
      }
      assert.equal(await a.pending('scan', s), 10);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
