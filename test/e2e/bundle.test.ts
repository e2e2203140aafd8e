/**
 * The published entry point as a user runs it: `node bin/berth.js serve` runs the esbuild bundle
 * (dist/berth.cjs) through bin/code-cache.js. Checks what only the bundle does (issue 12, start-up):
 * it is ASCII (the loader decodes it as latin1), a server start writes the V8 code cache beside it
 * and the next start uses it without rewriting it, and the default worker count forks workers that
 * answer and stop cleanly. Every other test runs berth from source through tsx.
 */
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, hermeticEnv, makeTempDir, REPO_ROOT, sleep } from './harness.js';

const DIST = join(REPO_ROOT, 'dist');
const caches = () => readdirSync(DIST).filter((f) => f.startsWith('berth.cjs.') && f.endsWith('.v8cache'));

/** Resolves with the status of the first answered GET /v2/ (polling), or rejects if `child` exits first. */
async function firstAnswer(port: number, child: ChildProcess, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`berth exited with ${child.exitCode} before answering`);
    try {
      return (await fetch(`http://127.0.0.1:${port}/v2/`)).status;
    } catch {
      await sleep(20);
    }
  }
  throw new Error('no answer within the timeout');
}

async function serve(dataDir: string, args: string[] = []): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/berth.js', 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args],
    { cwd: REPO_ROOT, env: hermeticEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => out.push(b));
  return { child, port, output: () => Buffer.concat(out).toString('utf8') };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('the bundled CLI (bin/berth.js → dist/berth.cjs)', { timeout: 300_000 }, () => {
  let dataDir: string;
  before(() => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, `${build.stdout}${build.stderr}`);
    // The build warns (and the loader falls back to slow UTF-8 decoding) when the bundle is not ASCII.
    assert.doesNotMatch(build.stderr, /not ASCII/);
    dataDir = join(makeTempDir(), 'data');
  });
  after(() => rmSync(dirname(dataDir), { recursive: true, force: true }));

  it('is ASCII', () => {
    assert.ok(isAscii(readFileSync(join(DIST, 'berth.cjs'))));
  });

  it('a first server start writes the code cache; the next start uses it without rewriting it', async () => {
    assert.deepEqual(caches(), [], 'a fresh build has no cache');
    const first = await serve(dataDir, ['--workers', '1']);
    assert.equal(await firstAnswer(first.port, first.child), 401, first.output());
    // Written a second after listening.
    for (let i = 0; i < 100 && caches().length === 0; i++) await sleep(100);
    assert.equal(caches().length, 1, first.output());
    assert.equal(await stop(first.child), 0, first.output());
    const file = join(DIST, caches()[0]!);
    const written = statSync(file).mtimeMs;

    const second = await serve(dataDir, ['--workers', '1']);
    assert.equal(await firstAnswer(second.port, second.child), 401, second.output());
    await sleep(1500);
    assert.equal(await stop(second.child), 0, second.output());
    assert.equal(statSync(file).mtimeMs, written, 'an accepted cache is not rewritten');
  });

  it('serves with the default worker count (one worker per CPU, none forked twice) and stops cleanly', async () => {
    const server = await serve(dataDir);
    assert.equal(await firstAnswer(server.port, server.child), 401, server.output());
    const want = Math.min(64, availableParallelism());
    if (want < 2) console.log(`# one CPU here: berth serve runs a single process; no workers to count`);
    else {
      let workers = serveWorkers(server.child.pid!);
      for (let i = 0; i < 100 && workers.length < want; i++, workers = serveWorkers(server.child.pid!)) await sleep(100);
      await sleep(1000);
      assert.equal(serveWorkers(server.child.pid!).length, want, `${want} workers, none forked twice\n${server.output()}`);
      assert.equal(server.output().match(/berth ready at/g)?.length, 1, server.output());
    }
    assert.equal(await stop(server.child), 0, server.output());
  });

  it('with the default worker count, a first worker that cannot start stops the supervisor with 1', async () => {
    const dir = join(makeTempDir(), 'data');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'meta.db'), 'this is not an SQLite database, but it is long enough to have a header page');
    const server = await serve(dir);
    const code = await new Promise<number | null>((done) => server.child.once('exit', done));
    assert.equal(code, 1, server.output());
    assert.match(server.output(), /not a database/);
  });
});

/** PIDs of `serve` processes whose parent is `pid` (the supervisor's workers). */
function serveWorkers(pid: number): string[] {
  const ps = spawnSync('ps', ['--ppid', String(pid), '-o', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => / serve /.test(l)).map((l) => l.trim().split(/\s+/)[0]!);
}
