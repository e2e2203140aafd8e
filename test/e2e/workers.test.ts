/**
 * `berth serve --workers 2`: several processes share the listener and the data directory, as
 * nodes of a scale-out deployment do. One bootstraps the root key; pushes and pulls work whichever
 * worker answers; SIGTERM drains every worker and the supervisor exits 0.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { BerthServer } from './harness.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('berth serve --workers 2', { timeout: 600_000 }, () => {
  let server: BerthServer;
  before(async () => {
    server = await BerthServer.start({ args: ['--workers', '2'] });
  });
  after(() => server?.dispose());

  it('serves pushes and pulls across workers with one root key and consistent metadata', async () => {
    await server.ensureRepository('workers/app');
    const blobs = Array.from({ length: 20 }, () => randomBytes(4096));
    // Separate connections so the kernel spreads them over both workers.
    await Promise.all(blobs.map(async (b) => {
      const res = await server.fetch(`/v2/workers/app/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', body: b, headers: { 'content-type': 'application/octet-stream', connection: 'close' } });
      assert.equal(res.status, 201, await res.text());
    }));
    for (const b of blobs) {
      const res = await server.fetch(`/v2/workers/app/blobs/${sha256(b)}`, { headers: { connection: 'close' } });
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(b));
    }
  });

  it('runs a supervisor with two worker processes that SIGTERM stops cleanly', async () => {
    const pid = server.child!.pid!;
    // Only the berth workers (tsx also runs an esbuild helper under the supervisor).
    const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n').filter((l) => / serve /.test(l)).map((l) => l.trim().split(/\s+/)[0]!);
    assert.equal(children.length, 2, `worker processes of ${pid}: ${children.join(', ')}`);
    const exit = await server.stop();
    assert.equal(exit.code, 0, server.logTail());
    for (const child of children) {
      assert.throws(() => process.kill(Number(child), 0), 'a worker outlived the supervisor');
    }
  });
});
