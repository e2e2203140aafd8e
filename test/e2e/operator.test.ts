/**
 * `berth serve` as an operator meets it: the banner and log lines reach a terminal at once
 * (a real pseudo-terminal through util-linux `script`), JSON lines reach a pipe within a second and
 * never repeat a key, workers default to one per CPU, SIGTERM does not wait for idle connections,
 * a client that hangs up is an info line with an access-log line, an early refusal of a streamed
 * body closes the connection, and the test environment's BERTH_* variables never reach a server.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BERTH_ARGS, BerthServer, freePort, hermeticEnv, makeTempDir, sleep, toolSkipReason } from './harness.js';

/** Collects a child's output and waits for patterns in it. */
class Output {
  text = '';
  constructor(child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => { this.text += b.toString('utf8'); });
    child.stderr?.on('data', (b: Buffer) => { this.text += b.toString('utf8'); });
  }

  /** Resolves with the ms it took for `re` to appear in output after `from` (a text offset). */
  async waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<number> {
    const start = Date.now();
    while (!re.test(this.text.slice(from))) {
      if (Date.now() - start > timeoutMs) throw new Error(`${re} did not appear within ${timeoutMs} ms; output:\n${this.text.slice(-3000)}`);
      await sleep(10);
    }
    return Date.now() - start;
  }
}

/** The keys of every object in a JSON text that appear twice in that object (JSON.parse keeps the last silently). */
function duplicateKeys(line: string): string[] {
  const dups: string[] = [];
  const stack: Set<string>[] = [];
  let i = 0;
  let expectKey = false;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      const str = line.slice(i + 1, j);
      if (expectKey && stack.length) {
        const keys = stack[stack.length - 1]!;
        if (keys.has(str)) dups.push(str);
        keys.add(str);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') { stack.push(new Set()); expectKey = true; } else if (c === '}') stack.pop();
    else if (c === ',') expectKey = stack.length > 0 && line.lastIndexOf('[', i) <= line.lastIndexOf('{', i);
    i++;
  }
  return dups;
}

const children: ChildProcess[] = [];
function serve(args: string[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; out: Output } {
  const argv = [process.execPath, ...BERTH_ARGS, 'serve', ...args];
  // `script -qfec CMD /dev/null` runs CMD on a new pseudo-terminal and copies what it prints to us.
  const child = opts.tty
    ? spawn('script', ['-qfec', argv.map((a) => `'${a}'`).join(' '), '/dev/null'], { env: { ...hermeticEnv(), ...opts.env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(argv[0]!, argv.slice(1), { env: { ...hermeticEnv(), ...opts.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return { child, out: new Output(child) };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((done) => child.once('exit', (code) => done(code)));
}

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
});

const noScript = await toolSkipReason('script');

describe('berth serve on a terminal', { skip: noScript ?? false, timeout: 600_000 }, () => {
  it('prints the banner (URL, data directory, root key, next commands) and shows a request line within one second', async () => {
    const port = await freePort();
    const dataDir = join(makeTempDir(), 'data');
    const { child, out } = serve(['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--workers', '1'], { tty: true });
    await out.waitFor(new RegExp(`berth is listening on http://127\\.0\\.0\\.1:${port}`), 60_000);
    await out.waitFor(/Try next:[\s\S]*aws ecr get-login-password[^\n]*\| podman login/, 2000);
    assert.match(out.text, new RegExp(`data directory\\s+${dataDir.replace(/[/.]/g, '\\$&')}`));
    assert.match(out.text, new RegExp(`root key\\s+${join(dataDir, 'credentials').replace(/[/.]/g, '\\$&')}\\s+\\(created now`));
    assert.match(out.text, /aws ecr create-repository --repository-name team\/app --endpoint-url http:\/\/127\.0\.0\.1/);
    assert.doesNotMatch(out.text, /^\{"level":/m, 'a terminal gets human-readable lines, not JSON lines');
    assert.match(out.text, /INFO.*berth listening on/);
    const mark = out.text.length;
    const res = await fetch(`http://127.0.0.1:${port}/v2/`);
    assert.equal(res.status, 401);
    const ms = await out.waitFor(/GET[\s\S]*\/v2\/[\s\S]*401/, 1000, mark);
    assert.ok(ms <= 1000, `request line after ${ms} ms`);
    // Ctrl-C on the terminal: the pseudo-terminal turns it into SIGINT for berth (which runs in its own
    // session under `script`, so a signal to script's process group would not reach it).
    child.stdin!.write('\x03');
    const code = await Promise.race([exitOf(child), sleep(20_000).then(() => 'still running')]);
    assert.notEqual(code, 'still running', `berth did not stop on Ctrl-C:\n${out.text.slice(-2000)}`);
    assert.match(out.text, /shutting down/);
  });
});

describe('berth serve with stdout on a pipe', { timeout: 600_000 }, () => {
  it('writes JSON lines with no repeated key, says it is ready with one worker per CPU by default, and flushes a request line within one second', async () => {
    const port = await freePort();
    const dataDir = join(makeTempDir(), 'data');
    const { child, out } = serve(['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir]);
    await out.waitFor(/"msg":"berth ready at http:\/\/127\.0\.0\.1:\d+"/, 60_000);
    const ready = out.text.split('\n').map((l) => JSON.parse(l || '{}') as Record<string, unknown>).find((l) => String(l.msg).startsWith('berth ready'))!;
    assert.equal(ready.workers, availableParallelism(), 'workers default to auto = one per CPU');
    assert.equal(ready.credentialsFile, join(dataDir, 'credentials'));
    // Both workers listen before the first request, so the line comes from whichever answers.
    await sleep(500);
    const mark = out.text.length;
    const res = await fetch(`http://127.0.0.1:${port}/v2/`, { headers: { connection: 'close' } });
    assert.equal(res.status, 401);
    const ms = await out.waitFor(/"path":"\/v2\/"[^\n]*"status":401/, 1000, mark);
    assert.ok(ms <= 1000);
    for (const line of out.text.split('\n').filter(Boolean)) {
      assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
      assert.deepEqual(duplicateKeys(line), [], `repeated key in ${line}`);
    }

    // An idle connection that never sent a request does not hold SIGTERM for the grace period.
    const idle: Socket = connect(port, '127.0.0.1');
    await new Promise((done) => idle.once('connect', done));
    const started = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    const code = await exitOf(child);
    idle.destroy();
    assert.equal(code, 0, out.text.slice(-2000));
    assert.ok(Date.now() - started < 5000, `SIGTERM took ${Date.now() - started} ms with an idle connection open`);
  });
});

describe('connections and aborted requests', { timeout: 600_000 }, () => {
  let server: BerthServer;
  after(() => server?.dispose());

  it('a client that hangs up mid-upload is logged at info with an access line, never an error with a stack', async () => {
    server = await BerthServer.start();
    await server.ensureRepository('ops/abort');
    const post = await server.fetch('/v2/ops/abort/blobs/uploads/', { method: 'POST' });
    assert.equal(post.status, 202);
    const location = new URL(post.headers.get('location')!, server.url);
    const sock = connect(server.port, '127.0.0.1');
    await new Promise((done) => sock.once('connect', done));
    sock.write(`PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: ${server.host}\r\nAuthorization: ${server.authorization}\r\n`
      + 'Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    sock.write(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    await sleep(300);
    sock.destroy();
    let lines: Record<string, unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      lines = server.log().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      if (lines.some((l) => l.aborted === true || l.msg === 'client went away mid-request')) break;
      await sleep(100);
    }
    const patch = lines.filter((l) => l.method === 'PATCH' || (typeof l.msg === 'string' && /client|aborted/.test(l.msg)));
    assert.ok(lines.some((l) => l.method === 'PATCH' && typeof l.path === 'string' && (l.aborted === true || typeof l.status === 'number')), `no access line for the aborted PATCH:\n${JSON.stringify(patch, null, 1)}`);
    const errors = lines.filter((l) => Number(l.level) >= 50);
    assert.deepEqual(errors, [], 'a client abort is not an error');
    assert.ok(!server.log().includes('"stack"'), 'no stack trace for a client abort');
  });

  it('a chunked manifest PUT refused at 4 MiB gets 413 with Connection: close, and the server closes the socket', async () => {
    await server.ensureRepository('ops/big');
    const sock = connect(server.port, '127.0.0.1');
    await new Promise((done) => sock.once('connect', done));
    let response = '';
    let closed = false;
    sock.on('data', (b: Buffer) => { response += b.toString('latin1'); });
    sock.on('close', () => { closed = true; });
    sock.on('error', () => undefined);
    sock.write(`PUT /v2/ops/big/manifests/v1 HTTP/1.1\r\nHost: ${server.host}\r\nAuthorization: ${server.authorization}\r\n`
      + 'Content-Type: application/vnd.oci.image.manifest.v1+json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `100000\r\n${'{'.repeat(0x100000)}\r\n`;
    // 5 MiB, more than the limit; the client keeps the request open (no final chunk).
    for (let i = 0; i < 5 && !sock.destroyed; i++) sock.write(chunk);
    for (let i = 0; i < 100 && !closed; i++) await sleep(100);
    assert.match(response, /^HTTP\/1\.1 413/);
    assert.match(response, /\r\nconnection: close\r\n/i);
    assert.ok(closed, 'the server closed the connection instead of reading the rest of the body');
  });

  it('the harness keeps the tester\'s BERTH_* variables away from the server (a preset root key would change the result)', async () => {
    const preset = { BERTH_ROOT_ACCESS_KEY_ID: 'AKIAPRESETBYTESTER00', BERTH_ROOT_SECRET_ACCESS_KEY: 'tester-secret-that-must-not-be-used-000000' };
    Object.assign(process.env, preset);
    let other: BerthServer | undefined;
    try {
      other = await BerthServer.start();
      assert.notEqual(other.rootKey.accessKeyId, preset.BERTH_ROOT_ACCESS_KEY_ID);
    } finally {
      for (const k of Object.keys(preset)) delete process.env[k];
      await other?.dispose();
    }
  });
});
