/**
 * The published entry point as a user runs it: `node bin/berth.js serve` runs the esbuild bundle
 * (dist/berth.cjs) through bin/code-cache.js. Checks what only the bundle does (issue 12, start-up):
 * it is ASCII (the loader decodes it as latin1), a server start writes the V8 code cache beside it
 * and the next start uses it without rewriting it, the libraries built as chunks of their own
 * (dist/chunks/) are not loaded by a default server start but are there, whole, for what uses them
 * (certificates, S3, PostgreSQL), and the default worker count forks workers that answer and stop
 * cleanly. Every other test runs berth from source through tsx.
 */
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { deleteTestBucket, type TestBucket } from '../support/s3-buckets.js';
import { freshPostgres, freshS3, POSTGRES_SKIP, S3_SKIP, skipReason, type TestPostgres } from '../support/servers.js';
import { freePort, hermeticEnv, makeTempDir, REPO_ROOT, run, sleep } from './harness.js';

const DIST = join(REPO_ROOT, 'dist');
const requireFromRepo = createRequire(join(REPO_ROOT, 'package.json'));
const CHUNKS = join(DIST, 'chunks');
const caches = () => readdirSync(DIST).filter((f) => f.startsWith('berth.cjs.') && f.endsWith('.v8cache'));
const chunkFiles = () => readdirSync(CHUNKS).filter((f) => f.endsWith('.cjs'));
/** Chunk code caches, as `<chunk>.cjs` names. */
const chunkCaches = () => existsSync(CHUNKS) ? readdirSync(CHUNKS).filter((f) => f.endsWith('.v8cache')).map((f) => f.slice(0, f.indexOf('.cjs.') + 4)).sort() : [];

/** The kinds of start a code cache file says it holds the code of (bin/code-cache.js). */
function cacheKinds(file: string): string[] {
  const { parseCache } = createRequire(import.meta.url)('../../bin/code-cache.js') as { parseCache(b: Buffer): { kinds: Set<string>; data: Buffer } | undefined };
  const parsed = parseCache(readFileSync(file));
  assert.ok(parsed, `${file} is a berth code cache`);
  assert.ok(parsed.data.length > 1000, `${file} holds V8 data`);
  return [...parsed.kinds].sort();
}

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

async function serve(dataDir: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/berth.js', 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args],
    { cwd: REPO_ROOT, env: { ...hermeticEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('is ASCII, chunks included', () => {
    assert.ok(isAscii(readFileSync(join(DIST, 'berth.cjs'))));
    for (const f of chunkFiles()) assert.ok(isAscii(readFileSync(join(CHUNKS, f))), f);
  });

  it("answers fastify's version check of each fastify plugin berth depends on from the build's table, as semver would", () => {
    // scripts/build.mjs (pluginVersionChecks): a start does not build semver's ranges for these.
    const main = readFileSync(join(DIST, 'berth.cjs'), 'latin1');
    const fastifyVersion = (JSON.parse(readFileSync(requireFromRepo.resolve('fastify/package.json'), 'utf8')) as { version: string }).version;
    const satisfies = requireFromRepo('semver/functions/satisfies') as (v: string, r: string, o: { includePrerelease: boolean }) => boolean;
    const plugins = Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies).filter((n) => n.startsWith('@fastify/'));
    assert.ok(plugins.length > 0);
    for (const plugin of plugins) {
      const ranges = [...readFileSync(requireFromRepo.resolve(plugin), 'utf8').matchAll(/\bfastify: '([^']+)'/g)].map((m) => m[1]!);
      assert.ok(ranges.length > 0, `${plugin} declares a fastify range`);
      for (const range of ranges) {
        for (const includePrerelease of [false, true]) {
          const entry = JSON.stringify(`${fastifyVersion} ${range} ${includePrerelease}`);
          const answer = satisfies(fastifyVersion, range, { includePrerelease });
          assert.ok(main.includes(`${entry}:${answer ? '!0' : '!1'}`), `${plugin}: ${entry} → ${answer} in the bundle`);
        }
      }
    }
  });

  it('each chunk carries what the main bundle takes from it: its packages, with all they export', async () => {
    // What the main bundle requires: require("./chunks/<name>.cjs")["<package>"] (scripts/build.mjs),
    // or `.<package>` where the name is an identifier.
    const main = readFileSync(join(DIST, 'berth.cjs'), 'latin1');
    const wanted = [...main.matchAll(/require\("\.\/chunks\/([\w-]+\.cjs)"\)(?:\["([^"]+)"\]|\.([\w$]+))/g)].map((m) => [m[1]!, (m[2] ?? m[3])!] as const);
    assert.deepEqual([...new Set(wanted.map(([chunk]) => chunk))].sort(), chunkFiles().sort(), 'every chunk is used, and none is missing');
    for (const pkg of ['yaml', '@aws-sdk/client-s3', '@aws-sdk/client-kms', 'pg', '@peculiar/x509', 'marked', 'sanitize-html', 'yauzl', 'tar-stream', 'ae-cvss-calculator']) {
      assert.ok(wanted.some(([, p]) => p === pkg), `${pkg} is taken from a chunk, not bundled into the main file`);
    }
    // Loaded as bin/code-cache.js loads them for the bundle (no cache written: enabled = false).
    const { chunkRequire } = createRequire(import.meta.url)('../../bin/code-cache.js') as { chunkRequire(file: string, enabled: boolean): (id: string) => Record<string, Record<string, unknown>> };
    const requireChunk = chunkRequire(join(DIST, 'berth.cjs'), false);
    await import('reflect-metadata'); // what @peculiar/x509 needs first, in the chunk as in src/cli/cert.ts
    let compared = 0;
    for (const [chunk, pkg] of wanted) {
      const exports = requireChunk(`./chunks/${chunk}`)[pkg];
      assert.ok(exports, `${chunk} exports ${pkg}`);
      const ns = await import(pkg) as { default?: unknown };
      let real = Object.keys(ns).filter((k) => k !== 'default' && k !== 'module.exports');
      if (real.length === 0) {
        // A CommonJS package exporting one function (sanitize-html): that function, with its
        // properties; or a polyfill exporting nothing (reflect-metadata).
        assert.equal(typeof exports, typeof ns.default, pkg);
        real = Object.keys(ns.default as object);
      }
      for (const name of real) assert.ok(name in exports, `${chunk}: ${pkg} lacks ${name}`);
      compared += real.length;
    }
    assert.ok(compared > 500, `only ${compared} exports compared`);
  });

  it('a first server start writes the code cache; a start of another kind takes it again, and a later start uses it without rewriting it', async () => {
    assert.deepEqual(caches(), [], 'a fresh build has no cache');
    const first = await serve(dataDir, ['--workers', '1']);
    assert.equal(await firstAnswer(first.port, first.child), 401, first.output());
    // Written a second after listening.
    for (let i = 0; i < 100 && caches().length === 0; i++) await sleep(100);
    assert.equal(caches().length, 1, first.output());
    assert.equal(await stop(first.child), 0, first.output());
    // The hook ran at listen and at stop: a chunk loaded by then would have its cache now.
    assert.deepEqual(chunkCaches(), [], 'a server start on the embedded default loads no chunk');
    const file = join(DIST, caches()[0]!);
    assert.deepEqual(cacheKinds(file), ['first-start'], 'taken by a start on a new data directory');
    const firstSize = statSync(file).size;

    // A start on the existing directory runs code the first did not: the cache is taken again, with both.
    const second = await serve(dataDir, ['--workers', '1']);
    assert.equal(await firstAnswer(second.port, second.child), 401, second.output());
    await sleep(1500);
    assert.equal(await stop(second.child), 0, second.output());
    assert.deepEqual(cacheKinds(file), ['first-start', 'start']);
    assert.ok(statSync(file).size >= firstSize, `the new cache keeps the code of the first start: ${firstSize} → ${statSync(file).size} bytes`);
    const written = statSync(file).mtimeMs;

    const third = await serve(dataDir, ['--workers', '1']);
    assert.equal(await firstAnswer(third.port, third.child), 401, third.output());
    await sleep(1500);
    assert.equal(await stop(third.child), 0, third.output());
    assert.equal(statSync(file).mtimeMs, written, 'an accepted cache of this kind of start is not rewritten');
  });

  it('berth cert create (the x509 chunk) writes a CA and certificate that a bundled server serves and a client trusts', async () => {
    const dir = join(makeTempDir(), 'tls');
    const made = await run(process.execPath, ['bin/berth.js', 'cert', 'create', '--host', '127.0.0.1', '--out', dir], { env: hermeticEnv() });
    assert.equal(made.code, 0, made.stderr);
    const server = await serve(join(dirname(dir), 'data'), ['--workers', '1', '--tls-cert', join(dir, 'server.crt'), '--tls-key', join(dir, 'server.key')]);
    try {
      let status: number | undefined;
      for (let i = 0; i < 300 && status === undefined; i++) {
        if (server.child.exitCode !== null) break;
        status = await undiciFetch(`https://127.0.0.1:${server.port}/v2/`, { dispatcher: new Agent({ connect: { ca: readFileSync(join(dir, 'ca.crt')) } }) })
          .then((r) => r.status, () => sleep(50).then(() => undefined));
      }
      assert.equal(status, 401, server.output());
    } finally {
      assert.equal(await stop(server.child), 0, server.output());
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it('a server on S3 and PostgreSQL loads the aws, postgres and sql chunks, caches them, and starts again from the caches', { skip: skipReason(S3_SKIP ?? POSTGRES_SKIP) }, async () => {
    let pg: TestPostgres | undefined;
    const s3: TestBucket = freshS3();
    const dir = join(makeTempDir(), 'data');
    try {
      pg = await freshPostgres();
      const env = {
        BERTH_STORAGE_META: 'postgres', BERTH_POSTGRES_URL: pg.url, BERTH_MASTER_KEY: randomBytes(32).toString('base64'), BERTH_STORAGE_BLOB: 's3',
        BERTH_S3_ENDPOINT: s3.endpoint, BERTH_S3_BUCKET: s3.bucket, BERTH_S3_REGION: s3.region,
        BERTH_S3_ACCESS_KEY_ID: s3.accessKeyId, BERTH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      };
      const first = await serve(dir, ['--workers', '1'], env);
      assert.equal(await firstAnswer(first.port, first.child), 401, first.output());
      assert.equal(await stop(first.child), 0, first.output());
      // The PostgreSQL stores build their queries with kysely from the start (only SQLite's start path is SQL text).
      assert.deepEqual(chunkCaches(), ['aws.cjs', 'postgres.cjs', 'sql.cjs'], first.output());
      const chunkCacheFiles = () => readdirSync(CHUNKS).filter((f) => f.endsWith('.v8cache')).map((f) => join(CHUNKS, f));
      for (const f of chunkCacheFiles()) assert.deepEqual(cacheKinds(f), ['first-start'], f);

      // The second start (an existing directory) takes them again once; the third uses them as they are.
      const second = await serve(dir, ['--workers', '1'], env);
      assert.equal(await firstAnswer(second.port, second.child), 401, second.output());
      assert.equal(await stop(second.child), 0, second.output());
      for (const f of chunkCacheFiles()) assert.deepEqual(cacheKinds(f), ['first-start', 'start'], f);
      const written = chunkCacheFiles().map((f) => statSync(f).mtimeMs);
      const third = await serve(dir, ['--workers', '1'], env);
      assert.equal(await firstAnswer(third.port, third.child), 401, third.output());
      assert.equal(await stop(third.child), 0, third.output());
      assert.deepEqual(chunkCacheFiles().map((f) => statSync(f).mtimeMs), written, 'accepted chunk caches are not rewritten');
    } finally {
      await pg?.drop();
      await deleteTestBucket(s3);
      rmSync(dirname(dir), { recursive: true, force: true });
    }
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
