// `npm run bench:meta-store`: per-operation cost of the MetaStore on SQLite (a file, the embedded
// default) and on PostgreSQL (the scale-out backend), side by side, one run.
//
//  put manifest   putManifest of a fresh image (2 linked blobs) moving tag `latest`, one at a time
//  get manifest   getManifest of a random stored manifest, one at a time (latency per op)
//  get manifest ×16  the same with 16 calls in flight (throughput: PostgreSQL overlaps round
//                 trips on its pool; SQLite answers synchronously, so in-flight calls queue)
//  resolve tag / get blob link   the other hot reads, one at a time
//
// PostgreSQL: BENCH_POSTGRES_URL (or BERTH_E2E_POSTGRES_URL) names a server and a role that may
// CREATE DATABASE; a fresh database is created and dropped. Without it only SQLite is measured and
// the PostgreSQL column says why. What this shows: every PostgreSQL call costs at least one network
// round trip (loopback here) plus the server's work, where SQLite is a function call into the
// page cache; a push is a transaction of ~10 statements on PostgreSQL.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../src/core/digest.js';
import type { MetaStore } from '../src/core/ports/meta-store.js';
import { repoKey } from '../src/core/repo-key.js';
import { openPostgresMetaStore } from '../src/storage/meta/postgres/pg-meta-store.js';
import { openSqliteMetaStore } from '../src/storage/meta/sqlite/sqlite-meta-store.js';

const PUTS = Number(process.env.BENCH_META_PUTS ?? 1_000);
const GETS = Number(process.env.BENCH_META_GETS ?? 5_000);
const IN_FLIGHT = 16;
const signal = new AbortController().signal;
const repo = repoKey('000000000000', 'bench/meta');
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

type Figures = Record<string, number>;

/** Microseconds per operation of `op` run `n` times one after another. */
async function perOp(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op(i);
  return Number(process.hrtime.bigint() - t0) / 1_000 / n;
}

/** Microseconds per operation (wall clock / n) with `width` calls in flight. */
async function perOpConcurrent(n: number, width: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await op(next++);
  }));
  return Number(process.hrtime.bigint() - t0) / 1_000 / n;
}

async function measure(store: MetaStore): Promise<Figures> {
  await store.createRepository(repo, signal);
  const digests: Digest[] = [];
  const put = async (i: number) => {
    const blobs = [sha(`config-${i}`), sha(`layer-${i}`)];
    for (const b of blobs) await store.linkBlob(repo, b, 1000, signal);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config: blobs[0], layers: [blobs[1]], n: i, pad: randomBytes(400).toString('hex') }));
    const digest = sha(body);
    await store.putManifest({ repository: repo, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body, imageSize: 2000, blobs, manifests: [], tag: 'latest' }, signal);
    digests.push(digest);
  };
  // Links are set up untimed for the timed puts: link them first, then time putManifest alone.
  for (let i = 0; i < 20; i++) await put(-1 - i);
  const pending: { digest: Digest; body: Buffer; blobs: Digest[] }[] = [];
  for (let i = 0; i < PUTS; i++) {
    const blobs = [sha(`config-${i}`), sha(`layer-${i}`)];
    for (const b of blobs) await store.linkBlob(repo, b, 1000, signal);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config: blobs[0], layers: [blobs[1]], n: i, pad: randomBytes(400).toString('hex') }));
    pending.push({ digest: sha(body), body, blobs });
  }
  const figures: Figures = {};
  figures['put manifest'] = await perOp(PUTS, async (i) => {
    const p = pending[i]!;
    await store.putManifest({ repository: repo, digest: p.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body: p.body, imageSize: 2000, blobs: p.blobs, manifests: [], tag: 'latest' }, signal);
    digests.push(p.digest);
  });
  const pick = (i: number) => digests[(i * 7919) % digests.length]!;
  await perOp(500, (i) => store.getManifest(repo, pick(i), signal)); // warm-up
  figures['get manifest'] = await perOp(GETS, async (i) => {
    if (!await store.getManifest(repo, pick(i), signal)) throw new Error('manifest missing');
  });
  figures[`get manifest ×${IN_FLIGHT}`] = await perOpConcurrent(GETS, IN_FLIGHT, async (i) => {
    if (!await store.getManifest(repo, pick(i), signal)) throw new Error('manifest missing');
  });
  figures['resolve tag'] = await perOp(GETS, async () => {
    if (!await store.resolveTag(repo, 'latest', signal)) throw new Error('tag missing');
  });
  figures['get blob link'] = await perOp(GETS, async (i) => {
    if (!await store.getBlobLink(repo, sha(`layer-${i % PUTS}`), signal)) throw new Error('link missing');
  });
  return figures;
}

async function postgres(): Promise<Figures | string> {
  const admin = process.env.BENCH_POSTGRES_URL ?? process.env.BERTH_E2E_POSTGRES_URL;
  if (!admin) return 'BENCH_POSTGRES_URL not set';
  const { default: pg } = await import('pg');
  const name = `berth_bench_${randomBytes(4).toString('hex')}`;
  const sqlAdmin = async (text: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await sqlAdmin(`create database ${name}`);
  try {
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const store = await openPostgresMetaStore({ url: url.toString(), poolSize: 10 });
    try {
      return await measure(store);
    } finally {
      await store.close();
    }
  } finally {
    await sqlAdmin(`drop database if exists ${name} with (force)`);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'berth-bench-meta-'));
  let lite: Figures;
  try {
    const store = await openSqliteMetaStore({ path: join(dir, 'meta.db') });
    try {
      lite = await measure(store);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pgFigures = await postgres();
  console.log(`MetaStore per operation, µs (${PUTS} puts, ${GETS} gets; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}, node ${process.version})`);
  console.log(`${'operation'.padEnd(20)}${'sqlite'.padStart(10)}${'postgres'.padStart(12)}${'pg/sqlite'.padStart(12)}`);
  for (const [op, v] of Object.entries(lite)) {
    const p = typeof pgFigures === 'string' ? undefined : pgFigures[op];
    const pgCell = p === undefined ? `(${String(pgFigures)})` : p.toFixed(1);
    const ratio = p === undefined ? '' : `${(p / v).toFixed(1)}×`;
    console.log(`${op.padEnd(20)}${v.toFixed(1).padStart(10)}${pgCell.padStart(12)}${ratio.padStart(12)}`);
  }
}

await main();
