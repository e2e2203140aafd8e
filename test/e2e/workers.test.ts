/**
 * `berth serve --workers 2`: several processes share the listener and the data directory, as
 * nodes of a scale-out deployment do. The supervisor bootstraps the root key and answers until a
 * worker is ready, then hands every new connection to the workers in turn; pushes and pulls work
 * whichever worker answers; a worker that dies is replaced; SIGTERM drains every worker and the
 * supervisor exits 0.
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
    // Separate connections, so the supervisor hands them to both workers in turn.
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

  it('announces the first start once, with the credentials the supervisor created', () => {
    const lines = readFileSync(server.logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = lines.filter((l) => String(l.msg).startsWith('berth ready at'));
    assert.equal(ready.length, 1, server.logTail());
    assert.equal(ready[0]!.firstStart, true);
    assert.equal(ready[0]!.workers, 2);
    assert.equal(ready[0]!.credentialsFile, join(server.dataDir, 'credentials'));
    // One process created the root key: one "written" line, and the file holds the key the test logged in with.
    assert.equal(lines.filter((l) => String(l.msg).startsWith('root credentials of account')).length, 1, server.logTail());
  });

  it('answers on its own while the workers start, then hands each new connection to a worker in turn', async () => {
    const supervisor = server.child!.pid!;
    await waitForLog(server, (l) => l.msg === 'the supervisor handed serving to its workers' && l.pid === supervisor);
    await waitForLog(server, () => logLines(server).filter((l) => l.msg === 'worker ready').length === 2);
    const workers = new Set(logLines(server).filter((l) => l.msg === 'worker ready').map((l) => l.pid));
    assert.equal(workers.size, 2, server.logTail());
    assert.ok(!workers.has(supervisor));
    // The readiness probe that started this test was answered before any worker existed.
    const first = logLines(server).find((l) => l.msg === 'request');
    assert.equal(first?.pid, supervisor, server.logTail());
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await server.fetch('/v2/', { headers: { connection: 'close' } });
      await res.arrayBuffer();
      ids.push(res.headers.get('x-amzn-requestid')!);
    }
    await waitForLog(server, (l) => l.msg === 'request' && l.reqId === ids.at(-1));
    const servedBy = ids.map((id) => logLines(server).find((l) => l.msg === 'request' && l.reqId === id)?.pid);
    for (const pid of servedBy) assert.ok(workers.has(pid), `request served by ${String(pid)}, not a worker (${[...workers].join(', ')})`);
    assert.equal(new Set(servedBy).size, 2, `six connections in turn reach both workers: ${servedBy.join(', ')}`);
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const before = logLines(server).filter((l) => l.msg === 'worker ready').map((l) => l.pid as number);
    process.kill(before[0]!, 'SIGKILL');
    const died = await waitForLog(server, (l) => l.msg === 'worker died; starting another');
    assert.equal(died.pid, server.child!.pid, 'the supervisor logs it');
    assert.equal(died.workerPid, before[0]);
    assert.equal(died.signal, 'SIGKILL');
    await waitForLog(server, (l) => l.msg === 'worker ready' && !before.includes(l.pid as number));
    for (let i = 0; i < 4; i++) {
      const res = await server.fetch('/v2/', { headers: { connection: 'close' } });
      assert.equal(res.status, 200, await res.text());
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

describe('berth serve --workers 2 whose server cannot start', { timeout: 120_000 }, () => {
  it('exits 1 with the error, before forking any worker', async () => {
    const dataDir = join(makeTempDir(), 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'meta.db'), 'this is not an SQLite database, but it is long enough to have a header page');
    const r = await run(process.execPath, [...BERTH_ARGS, 'serve', '--workers', '2', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /not a database/, describeRun(r));
    assert.doesNotMatch(r.stdout + r.stderr, /worker ready|worker died/, describeRun(r));
  });
});

type LogLine = Record<string, unknown>;

/** The JSON log lines (each checked to name its process once: JSON.parse would hide a second `pid`). */
function logLines(server: BerthServer): LogLine[] {
  return server.log().split('\n').filter((l) => l.startsWith('{')).map((l) => {
    assert.equal(l.match(/"pid":/g)?.length, 1, `one pid per line: ${l}`);
    return JSON.parse(l) as LogLine;
  });
}

async function waitForLog(server: BerthServer, match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = logLines(server).find(match);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no such log line within ${timeoutMs} ms\n${server.logTail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
