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
import http from 'node:http';
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

  it('lets a keep-alive connection to the supervisor go without cutting it when the workers take over', async () => {
    const supervisor = server.child!.pid!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(server.port, agent);
      const servedBy = (id: string) => logLines(server).find((l) => l.msg === 'request' && l.reqId === id)?.pid;
      await waitForLog(server, (l) => l.msg === 'request' && l.reqId === first.id);
      if (servedBy(first.id) !== supervisor || /new connections go to the workers/.test(server.log())) {
        // Only when the workers were up before this test began (a very fast machine).
        console.log('# the workers were ready before the first request: the hand-over of a live connection is not exercised here');
        return;
      }
      assert.equal(first.connection, 'keep-alive');
      await waitForLog(server, (l) => l.msg === 'a worker is ready: new connections go to the workers');
      // The same socket, kept by the agent: answered (not reset), and told to close.
      const second = await get(server.port, agent);
      assert.equal(second.status, 401);
      assert.equal(second.connection, 'close');
      assert.equal(second.socket, first.socket, 'the request went over the kept connection');
      await waitForLog(server, (l) => l.msg === 'request' && l.reqId === second.id);
      assert.equal(servedBy(second.id), supervisor);
      const third = await get(server.port, agent);
      assert.notEqual(third.socket, first.socket);
      await waitForLog(server, (l) => l.msg === 'request' && l.reqId === third.id);
      assert.notEqual(servedBy(third.id), supervisor, 'a new connection goes to a worker');
    } finally {
      agent.destroy();
    }
  });

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

  it('serves a tag moved through one worker from every worker at once, under load', async () => {
    // Each worker shares one read of SQLite's transaction counter among the requests of one event-loop
    // turn (src/storage/meta/sqlite/shared-reads.ts); GETs from many connections at once make such
    // turns. A tag moved by a PUT that has been answered must be what the next GET on any connection
    // of any worker resolves it to.
    const repo = 'workers/moving';
    await server.ensureRepository(repo);
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const res = await server.fetch(`/v2/${repo}/blobs/uploads/?digest=${sha256(config)}`, { method: 'POST', body: config, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 201, await res.text());
    const manifest = (n: number) => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [], annotations: { n: String(n) },
    }));
    const auth = server.authorization;
    const accept = 'application/vnd.oci.image.manifest.v1+json';
    const agents = Array.from({ length: 2 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    let stop = false;
    let loadRequests = 0;
    try {
      const first = await call(server.port, agents[0]!, 'PUT', `/v2/${repo}/manifests/moving`, { authorization: auth, 'content-type': accept }, manifest(0));
      assert.equal(first.status, 201);
      // The load comes over new connections: a connection's second request in a turn ends the sharing
      // for that turn (pipelining), which would hide a read shared for too long.
      const background = Array.from({ length: 16 }, async () => {
        while (!stop) {
          const r = await call(server.port, false, 'GET', `/v2/${repo}/manifests/moving`, { authorization: auth, accept });
          assert.equal(r.status, 200);
          loadRequests++;
        }
      });
      const pids = new Map<string, number>();
      const pairs: { put: string; gets: string[] }[] = [];
      for (let n = 1; n <= 60; n++) {
        const put = await call(server.port, agents[n % agents.length]!, 'PUT', `/v2/${repo}/manifests/moving`, { authorization: auth, 'content-type': accept }, manifest(n));
        assert.equal(put.status, 201);
        // Over new connections, which the supervisor hands to the workers in turn (a kept one's second
        // request in a turn would end the sharing, see above).
        const gets = await Promise.all(Array.from({ length: 4 }, () => call(server.port, false, 'GET', `/v2/${repo}/manifests/moving`, { authorization: auth, accept })));
        for (const get of gets) assert.equal(get.digest, put.digest, `GET after PUT ${n} resolved the tag to the digest before it`);
        pairs.push({ put: put.id, gets: gets.map((g) => g.id) });
      }
      stop = true;
      await Promise.all(background);
      assert.ok(loadRequests > 100, `the load made ${loadRequests} requests`);
      // Both workers answered GETs right after a PUT answered by the other one.
      const last = new Set(pairs.at(-1)!.gets);
      await waitForLog(server, () => logLines(server).filter((l) => l.msg === 'request' && last.has(l.reqId as string)).length === last.size);
      for (const l of logLines(server)) if (l.msg === 'request' && typeof l.reqId === 'string') pids.set(l.reqId, l.pid as number);
      const crossed = new Set<number>();
      for (const { put, gets } of pairs) {
        for (const get of gets) {
          const [p, g] = [pids.get(put), pids.get(get)];
          assert.ok(p !== undefined && g !== undefined, `log lines of requests ${put} and ${get}`);
          if (g !== p) crossed.add(g);
        }
      }
      assert.equal(crossed.size, 2, `GETs served by a worker other than the PUT's, by worker: ${[...crossed].join(', ')}`);
    } finally {
      stop = true;
      for (const agent of agents) agent.destroy();
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
    await waitForLog(server, (l) => l.msg === 'a worker is ready: new connections go to the workers' && l.pid === supervisor);
    await waitForLog(server, () => logLines(server).filter((l) => l.msg === 'worker ready').length === 2);
    const workers = new Set(logLines(server).filter((l) => l.msg === 'worker ready').map((l) => l.pid));
    assert.equal(workers.size, 2, server.logTail());
    assert.ok(!workers.has(supervisor));
    // The readiness probe that started this test was answered before any worker existed.
    const first = logLines(server).find((l) => l.msg === 'request');
    assert.equal(first?.pid, supervisor, server.logTail());
    const ids: string[] = [];
    // A new connection each (no pooled one from before the hand-over).
    for (let i = 0; i < 6; i++) ids.push((await get(server.port)).id);
    // Each process flushes its own log lines (within 250 ms).
    for (const id of ids) await waitForLog(server, (l) => l.msg === 'request' && l.reqId === id);
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
    assert.equal(died.restartInMs, 0, 'a worker that had served is replaced at once');
    // Its replacement, killed before it is ready, is retried after a pause (then ever longer).
    let replacement: number | undefined;
    for (let i = 0; i < 200 && replacement === undefined; i++) {
      replacement = workerPids(server.child!.pid!).find((p) => !before.includes(p));
      if (replacement === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(replacement, 'a replacement worker was forked');
    if (logLines(server).some((l) => l.msg === 'worker ready' && l.pid === replacement)) {
      console.log('# the replacement was ready before it could be killed: the start-failure pause is not exercised here');
    } else {
      process.kill(replacement, 'SIGKILL');
      const failed = await waitForLog(server, (l) => l.msg === 'worker died; starting another' && l.workerPid === replacement);
      assert.equal(failed.restartInMs, 250, server.logTail());
    }
    await waitForLog(server, (l) => l.msg === 'worker ready' && !before.includes(l.pid as number));
    for (let i = 0; i < 4; i++) {
      const res = await server.fetch('/v2/', { headers: { connection: 'close' } });
      assert.equal(res.status, 200, await res.text());
    }
  });

  it('runs a supervisor with two worker processes that SIGTERM stops cleanly', async () => {
    const pid = server.child!.pid!;
    // Only the berth workers (tsx also runs an esbuild helper under the supervisor).
    const children = workerPids(pid);
    assert.equal(children.length, 2, `worker processes of ${pid}: ${children.join(', ')}`);
    const exit = await server.stop();
    assert.equal(exit.code, 0, server.logTail());
    for (const child of children) {
      assert.throws(() => process.kill(child, 0), 'a worker outlived the supervisor');
    }
  });
});

describe('berth serve --workers 2 whose supervisor is killed', { timeout: 120_000 }, () => {
  it('has its workers finish and exit instead of lingering', async () => {
    const server = await BerthServer.start({ args: ['--workers', '2'] });
    try {
      await waitForLog(server, () => logLines(server).filter((l) => l.msg === 'worker ready').length === 2);
      const workers = workerPids(server.child!.pid!);
      assert.equal(workers.length, 2);
      server.child!.kill('SIGKILL');
      const alive = () => workers.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      for (let i = 0; i < 200 && alive().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(alive(), [], server.logTail());
      assert.equal(logLines(server).filter((l) => l.reason === 'the supervisor is gone').length, 2, server.logTail());
    } finally {
      await server.dispose();
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

/** PIDs of the `serve` processes whose parent is `pid` (not tsx's esbuild helper under a supervisor run from source). */
function workerPids(pid: number): number[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n').filter((l) => / serve /.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

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

let sockets = 0;
const socketIds = new WeakMap<object, number>();

/** GET /v2/ over `agent` (default: a connection of its own); the request id, status, Connection header and which socket carried it. */
function get(port: number, agent: http.Agent | false = false): Promise<{ id: string; status: number; connection: string | undefined; socket: number }> {
  return new Promise((done, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v2/', agent }, (res) => {
      const socket = socketIds.get(res.socket) ?? socketIds.set(res.socket, ++sockets).get(res.socket)!;
      res.resume();
      res.once('end', () => done({ id: String(res.headers['x-amzn-requestid']), status: res.statusCode!, connection: res.headers.connection, socket }));
    });
    req.once('error', reject);
  });
}

/** One request over `agent` (false: a connection of its own): status, Docker-Content-Digest and request id of its answer. */
function call(port: number, agent: http.Agent | false, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; digest: string | undefined; id: string }> {
  return new Promise((done, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      res.resume();
      res.once('end', () => done({ status: res.statusCode!, digest: res.headers['docker-content-digest'] as string | undefined, id: String(res.headers['x-amzn-requestid']) }));
    });
    req.once('error', reject);
    req.end(body);
  });
}
