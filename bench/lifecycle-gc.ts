// `npm run bench:lifecycle-gc`: lifecycle preview and online GC figures against the targets.
//
//  1. preview    StartLifecyclePolicyPreview → COMPLETE over one repository of BENCH_LC_IMAGES (10,000)
//                images, through the same service the ECR operation calls (SQLite file, not :memory:).
//  2. gc pass    one GarbageCollector run over BENCH_GC_BLOBS (100,000) blobs on the filesystem blob
//                store, BENCH_GC_GARBAGE (10 %) of them unreferenced and older than the grace period.
//  3. push       images/s pushed over HTTP (/v2, 8 concurrent clients, 3 small layers + config +
//                manifest) for BENCH_PUSH_SECONDS, without GC and then with GC passes running back
//                to back in the same process over the same 100,000-blob store.
//
// Setup rows are written straight into the metadata file in one transaction (a bench fixture; the
// timed parts go through the real services). Distribution has no online GC to compare with (its
// `garbage-collect` needs the registry read-only), so the reference column is the target.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { repoKey } from '../src/core/repo-key.js';
import { validateConfig } from '../src/config/load.js';
import { LocalEventBus } from '../src/core/events.js';
import { GarbageCollector } from '../src/core/services/gc.js';
import { LifecycleService } from '../src/lifecycle/service.js';
import { FsBlobStore } from '../src/storage/blob/fs/fs-blob-store.js';
import { openSqliteGcStore } from '../src/storage/meta/sqlite/sqlite-gc-store.js';
import { openSqliteLifecycleStore } from '../src/storage/meta/sqlite/sqlite-lifecycle-store.js';
import { openSqliteMetaStore } from '../src/storage/meta/sqlite/sqlite-meta-store.js';

const IMAGES = Number(process.env.BENCH_LC_IMAGES ?? 10_000);
const BLOBS = Number(process.env.BENCH_GC_BLOBS ?? 100_000);
const GARBAGE = Number(process.env.BENCH_GC_GARBAGE ?? Math.round(BLOBS / 10));
const PUSH_SECONDS = Number(process.env.BENCH_PUSH_SECONDS ?? 20);
const CLIENTS = 8;
const signal = new AbortController().signal;
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const root = mkdtempSync(join(os.tmpdir(), 'berth-bench-lcgc-'));
const rows: [string, string, string][] = [];

async function benchPreview(): Promise<void> {
  const path = join(root, 'preview.db');
  const meta = await openSqliteMetaStore({ path });
  await meta.createRepository(repoKey('000000000000', 'bench/lc'), signal);
  const db = new Database(path);
  const repoId = (db.prepare("SELECT id FROM repositories WHERE name = 'bench/lc'").get() as { id: number }).id;
  const now = Date.now();
  db.transaction(() => {
    const m = db.prepare('INSERT INTO manifests (repository_id, digest, media_type, size, body, pushed_at, image_size) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const t = db.prepare('INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < IMAGES; i++) {
      const body = Buffer.from(`{"schemaVersion":2,"n":${i}}`);
      const d = sha(body);
      m.run(repoId, d, 'application/vnd.oci.image.manifest.v1+json', body.length, body, now - i * 3_600_000, 1000);
      if (i % 3 !== 0) t.run(repoId, `${i % 2 ? 'prod' : 'dev'}-${i}`, d, now);
    }
  })();
  db.close();
  const store = await openSqliteLifecycleStore({ path });
  const service = new LifecycleService(meta, store);
  const policy = JSON.stringify({ rules: [
    { rulePriority: 1, selection: { tagStatus: 'tagged', tagPatternList: ['prod-*'], countType: 'imageCountMoreThan', countNumber: 100 }, action: { type: 'expire' } },
    { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
    { rulePriority: 3, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5000 }, action: { type: 'expire' } },
  ] });
  const repo = { accountId: '000000000000', name: 'bench/lc' };
  const times: number[] = [];
  let expiring = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    await service.startPreview(repo, policy, signal);
    await service.idle();
    const page = await service.getPreview(repo, { limit: 100 }, signal);
    times.push(performance.now() - t0);
    expiring = page.summary?.expiring ?? 0;
    if (page.status !== 'COMPLETE') throw new Error(`preview ${page.status}`);
  }
  times.sort((a, b) => a - b);
  rows.push([`preview over ${IMAGES} images (median of 3; ${expiring} expiring)`, `${(times[1]! / 1000).toFixed(3)} s`, '< 1 s']);
  await store.close();
  await meta.close();
}

async function seedGcStore(dir: string): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  const meta = await openSqliteMetaStore({ path: join(dir, 'meta.db') });
  await meta.createRepository(repoKey('000000000000', 'bench/gc'), signal);
  await meta.close();
  const db = new Database(join(dir, 'meta.db'));
  const repoId = (db.prepare("SELECT id FROM repositories WHERE name = 'bench/gc'").get() as { id: number }).id;
  const old = new Date(Date.now() - 2 * 3_600_000);
  const live: string[] = [];
  for (let i = 0; i < BLOBS; i++) {
    const bytes = randomBytes(64);
    const d = sha(bytes);
    const hex = d.slice(7);
    mkdirSync(join(blobs, hex.slice(0, 2)), { recursive: true });
    writeFileSync(join(blobs, hex.slice(0, 2), hex), bytes);
    if (i < GARBAGE) utimesSync(join(blobs, hex.slice(0, 2), hex), old, old);
    else live.push(d);
  }
  db.transaction(() => {
    const link = db.prepare('INSERT INTO repository_blobs (repository_id, digest, size, created_at) VALUES (?, ?, 64, ?)');
    const m = db.prepare('INSERT INTO manifests (repository_id, digest, media_type, size, body, pushed_at, image_size) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const mb = db.prepare('INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) VALUES (?, ?, ?)');
    for (let i = 0; i < live.length; i += 10) {
      const body = Buffer.from(`{"schemaVersion":2,"i":${i}}`);
      const md = sha(body);
      m.run(repoId, md, 'application/vnd.oci.image.manifest.v1+json', body.length, body, Date.now(), 640);
      for (const d of live.slice(i, i + 10)) {
        link.run(repoId, d, old.getTime());
        mb.run(repoId, md, d);
      }
    }
  })();
  db.close();
}

async function benchGcPass(dir: string): Promise<void> {
  const blobs = await FsBlobStore.open({ root: dir });
  const meta = await openSqliteMetaStore({ path: join(dir, 'meta.db') });
  const gcStore = await openSqliteGcStore({ path: join(dir, 'meta.db') });
  const gc = new GarbageCollector(meta, blobs, gcStore, new LocalEventBus());
  const r = await gc.run({ graceMs: 3_600_000, uploadMaxAgeMs: 24 * 3_600_000 }, signal);
  if (r.blobsDeleted !== GARBAGE) throw new Error(`GC deleted ${r.blobsDeleted}, expected ${GARBAGE}`);
  rows.push([`GC pass over ${BLOBS} blobs, ${GARBAGE} garbage`, `${(r.durationMs / 1000).toFixed(2)} s (${r.blobsDeleted} deleted)`, '< 30 s']);
  await gcStore.close();
  await meta.close();
  await blobs.close();
}

async function benchPush(dir: string): Promise<void> {
  const config = validateConfig({ dataDir: dir, listen: '127.0.0.1:0', log: { level: 'silent' }, lifecycle: { intervalMinutes: 0 }, gc: { intervalMinutes: 0, graceSeconds: 3600 } });
  const app = await createApp(config, { logger: pino({ level: 'silent' }), openRegistry: true });
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const pushOne = async (client: number): Promise<void> => {
    const repo = `bench/push${client}`;
    const layers = [randomBytes(4096), randomBytes(4096), randomBytes(4096)];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(4).toString('hex') }));
    for (const b of [...layers, config]) {
      const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${sha(b)}`, { method: 'POST', body: b });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`blob push ${res.status}`);
    }
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length })) });
    const res = await fetch(`${base}/v2/${repo}/manifests/${sha(body)}`, { method: 'PUT', body, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`manifest push ${res.status}`);
  };
  const measure = async (): Promise<number> => {
    const end = Date.now() + PUSH_SECONDS * 1000;
    let n = 0;
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      while (Date.now() < end) {
        await pushOne(c);
        n++;
      }
    }));
    return n / PUSH_SECONDS;
  };
  await measure(); // warm-up
  const without = await measure();
  let passes = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await app.gc!.run(gcOptionsFor(), signal);
      passes++;
    }
  })();
  const withGc = await measure();
  stop = true;
  await loop;
  rows.push(['push, no GC', `${without.toFixed(1)} images/s`, 'reference']);
  rows.push([`push while GC passes run back to back (${passes} passes)`, `${withGc.toFixed(1)} images/s (${((withGc / without - 1) * 100).toFixed(1)} %)`, 'within 15 %']);
  await app.close();
}
const gcOptionsFor = () => ({ graceMs: 3_600_000, uploadMaxAgeMs: 24 * 3_600_000 });

try {
  process.stderr.write(`bench dir ${root}\n`);
  if (!process.env.BENCH_SKIP_PREVIEW) await benchPreview();
  const gcDir = join(root, 'gc');
  mkdirSync(gcDir, { recursive: true });
  process.stderr.write(`seeding ${BLOBS} blobs…\n`);
  await seedGcStore(gcDir);
  await benchGcPass(gcDir);
  if (!process.env.BENCH_SKIP_PUSH) await benchPush(gcDir);
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  process.stdout.write(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  target ${c}\n`);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
}
