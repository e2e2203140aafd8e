/**
 * `berth serve --workers 2`: several processes share the listener and the data directory, as
 * nodes of a scale-out deployment do. One bootstraps the root key; pushes and pulls work whichever
 * worker answers; SIGTERM drains every worker and the supervisor exits 0.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH_ARGS, BerthServer, describeRun, makeTempDir, run } from './harness.js';

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

  it('announces the first start once, with the credentials the first worker created', () => {
    const lines = readFileSync(server.logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = lines.filter((l) => String(l.msg).startsWith('berth ready at'));
    assert.equal(ready.length, 1, server.logTail());
    assert.equal(ready[0]!.firstStart, true);
    assert.equal(ready[0]!.workers, 2);
    assert.equal(ready[0]!.credentialsFile, join(server.dataDir, 'credentials'));
    // One process created the root key: one "written" line, and the file holds the key the test logged in with.
    assert.equal(lines.filter((l) => String(l.msg).startsWith('root credentials of account')).length, 1, server.logTail());
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

describe('berth serve --workers 2 whose first worker cannot start', { timeout: 120_000 }, () => {
  it('exits 1 with the worker\'s error instead of restarting it forever', async () => {
    const dataDir = join(makeTempDir(), 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'meta.db'), 'this is not an SQLite database, but it is long enough to have a header page');
    const r = await run(process.execPath, [...BERTH_ARGS, 'serve', '--workers', '2', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /not a database/, describeRun(r));
    assert.match(r.stdout + r.stderr, /first worker failed to start/, describeRun(r));
  });
});
