/**
 * The `berth` command line as an operator runs it: verify-config, configuration by environment,
 * and graceful shutdown on SIGTERM with an upload in flight. The harness waits for GET /readyz and
 * logs in with the `AWS:<token>` from ECR GetAuthorizationToken; `server.fetch` sends it on `/v2`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../fixtures/oci-image.js';
import { BERTH_ARGS, BerthServer, describeRun, freePort, makeTempDir, run, sleep } from './harness.js';

const berth = (...args: string[]) => run(process.execPath, [...BERTH_ARGS, ...args], { timeoutMs: 30_000 });

describe('berth verify-config', () => {
  let dir: string;
  before(() => {
    dir = makeTempDir('berth-e2e-config-');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 on a valid YAML file and prints the effective configuration', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, 'listen: 127.0.0.1:6000\ndataDir: /srv/berth\nlog:\n  level: warn\nlimits:\n  maxPageSize: 50\n');
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /valid/);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { listen: string; dataDir: string; log: { level: string }; limits: { maxPageSize: number } };
    assert.equal(json.listen, '127.0.0.1:6000');
    assert.equal(json.dataDir, '/srv/berth');
    assert.equal(json.log.level, 'warn');
    assert.equal(json.limits.maxPageSize, 50);
  });

  it('exits 0 on an empty file (every field has a default)', async () => {
    const file = join(dir, 'empty.yaml');
    await writeFile(file, '');
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 0, describeRun(r));
  });

  it('exits 1 on a bad file and names every bad field', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, [
      'listen: "no-port-here"',
      'log:',
      '  level: loud',
      'limits:',
      '  maxPageSize: 0',
      'shutdownGraceSeconds: -3',
      'storage:',
      '  meta: mysql',
      'bogusField: 1',
      '',
    ].join('\n'));
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /invalid/);
    for (const field of [/^\s+listen:/m, /^\s+log\.level:/m, /^\s+limits\.maxPageSize:/m, /^\s+shutdownGraceSeconds:/m, /^\s+storage\.meta:/m, /bogusField/]) {
      assert.match(r.stderr, field, `stderr does not name ${field}`);
    }
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'a stack trace leaked');
  });

  it('a listen value without a port is reported as not HOST:PORT only, not as a port above 65535', async () => {
    const file = join(dir, 'listen.yaml');
    await writeFile(file, 'listen: "no-port-here"\n');
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 1, describeRun(r));
    const listenLines = r.stderr.split('\n').filter((l) => /^\s+listen:/.test(l));
    assert.deepEqual(listenLines.map((l) => l.trim()), ['listen: must be HOST:PORT'], r.stderr);
  });

  it('exits 1 on a file that is not YAML, and on a missing file, saying why', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'a: [\n');
    const broken = await berth('verify-config', '--config', file);
    assert.equal(broken.code, 1, describeRun(broken));
    assert.match(broken.stderr, /not valid YAML/);
    const missing = await berth('verify-config', '--config', join(dir, 'nope.yaml'));
    assert.equal(missing.code, 1, describeRun(missing));
    assert.match(missing.stderr, /cannot be read/);
  });
});

describe('berth serve', { timeout: 600_000 }, () => {
  const servers: BerthServer[] = [];
  after(async () => {
    for (const s of servers) await s.dispose();
  });

  it('listens on BERTH_LISTEN and keeps its data in BERTH_DATA_DIR when no flags are given', async () => {
    const server = await BerthServer.start({ useFlags: false });
    servers.push(server);
    const res = await server.fetch('/v2/');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(existsSync(join(server.dataDir, 'meta.db')), `no meta.db in BERTH_DATA_DIR ${server.dataDir}`);
    assert.ok(existsSync(join(server.dataDir, 'credentials')), `no root credentials file in BERTH_DATA_DIR ${server.dataDir}`);
    await server.ensureRepository('env/test');
    const push = await server.fetch(`/v2/env/test/blobs/uploads/?digest=${sha256(Buffer.from('hi'))}`, { method: 'POST', body: 'hi' });
    assert.equal(push.status, 201);
    await push.arrayBuffer();
    const exit = await server.stop();
    assert.equal(exit.code, 0, server.logTail());
  });

  it('flags win over BERTH_LISTEN', async () => {
    const envPort = await freePort();
    const server = await BerthServer.start({ env: { BERTH_LISTEN: `127.0.0.1:${envPort}` } });
    servers.push(server);
    assert.notEqual(server.port, envPort);
    const res = await server.fetch('/v2/');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await assert.rejects(fetch(`http://127.0.0.1:${envPort}/v2/`, { signal: AbortSignal.timeout(2000) }));
  });

  it('SIGTERM lets an in-flight slow chunked upload finish (202), then exits 0; the chunk survives a restart', async () => {
    const server = await BerthServer.start();
    servers.push(server);
    await server.ensureRepository('slow/upload');
    const auth = server.authorization;
    const start = await server.fetch('/v2/slow/upload/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    await start.arrayBuffer();
    const location = start.headers.get('location')!;
    const body = randomBytes(256 * 1024);

    // A PATCH whose body arrives in two halves, with SIGTERM in between.
    let sigtermSent = false;
    let responded = false;
    const response = new Promise<{ status: number; range: string | undefined }>((done, reject) => {
      const req = request(`${server.url}${location}`, {
        method: 'PATCH',
        agent: false,
        headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-length': body.length, 'content-range': `0-${body.length - 1}` },
      }, (res) => {
        res.resume();
        res.on('end', () => {
          responded = true;
          done({ status: res.statusCode ?? 0, range: res.headers.range });
        });
      });
      req.on('error', reject);
      req.write(body.subarray(0, body.length / 2));
      // Second half after SIGTERM (below).
      void (async () => {
        while (!sigtermSent) await sleep(20);
        await sleep(700);
        req.end(body.subarray(body.length / 2));
      })();
    });
    await sleep(400);
    server.child!.kill('SIGTERM');
    sigtermSent = true;
    await sleep(300);
    assert.equal(server.child!.exitCode, null, `berth exited before the in-flight upload finished\n${server.logTail()}`);
    assert.equal(responded, false);
    // While draining, new connections are not served (even with valid credentials).
    const during = await fetch(`${server.url}/v2/`, { headers: { authorization: auth }, signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 'refused');
    assert.ok(during === 'refused' || during === 503, `a new request during shutdown got ${during}`);

    const res = await response;
    assert.equal(res.status, 202, server.logTail());
    assert.equal(res.range, `0-${body.length - 1}`);
    const exit = await server.exited();
    assert.deepEqual(exit, { code: 0, signal: null }, server.logTail());
    // The buffered log is flushed on the way out: the operator sees the drain and the stop.
    assert.match(server.log(), /shutting down/);
    assert.match(server.log(), /berth stopped/);

    // The acknowledged chunk is durable: complete the upload on a restarted server.
    await server.launch();
    const done = await server.fetch(`${location}?digest=${sha256(body)}`, { method: 'PUT' });
    assert.equal(done.status, 201, `${await done.text()}\n${server.logTail()}`);
    const blob = await server.fetch(`/v2/slow/upload/blobs/${sha256(body)}`);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(body));
  });
});
