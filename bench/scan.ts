// `npm run bench:scan`: the scanner's three figures from issue 10, each printed beside its target.
// In-process (there is no baseline registry that scans); inputs are generated, untimed, in a temp dir.
//   BENCH_SCAN_MIB (200)      uncompressed size of the inventoried image
//   BENCH_SCAN_IMAGES (1000)  stored inventories re-evaluated
//   BENCH_SCAN_OSV_MB (100)   size of the synthetic OSV all.zip imported
//   BENCH_SCAN_DISTINCT (0)   1: every stored inventory differs (its own app layer digest and
//                             package), so no two images share a parsed inventory or a match
//   BENCH_SCAN_PROFILE        a file: writes a V8 CPU profile of the re-evaluation against the
//                             changed database there (node:inspector; its figure is then inflated)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Session } from 'node:inspector/promises';
import type { Digest } from '../src/core/digest.js';
import { LocalEventBus } from '../src/core/events.js';
import { readInventory } from '../src/scan/image-reader.js';
import { DEFAULT_LAYER_LIMITS } from '../src/scan/layers/limits.js';
import { parseDpkgStatus } from '../src/scan/inventory/dpkg.js';
import { matchInventory } from '../src/scan/match/match.js';
import { REEVALUATE_JOB } from '../src/scan/service.js';
import { scanHandlers } from '../src/scan/worker.js';
import { readOsv } from '../src/scan/vulndb/read-osv.js';
import { FsBlobStore } from '../src/storage/blob/fs/fs-blob-store.js';
import { MemoryMetaStore } from '../src/storage/meta/memory/memory-meta-store.js';
import type { ScanSchema } from '../src/storage/meta/migrations/scan-schema.js';
import { openSqlite } from '../src/storage/meta/sqlite/open.js';
import { SqliteScanStore } from '../src/storage/meta/sqlite/sqlite-scan-store.js';
import { importVulnDb, SqliteVulnDb } from '../src/storage/vuln/sqlite-vuln-db.js';
import { repoKey } from '../src/core/repo-key.js';
import { tarOf, sha256, type TarEntry } from '../test/fixtures/scan-images.js';

const MIB = Number(process.env.BENCH_SCAN_MIB ?? 200);
const IMAGES = Number(process.env.BENCH_SCAN_IMAGES ?? 1000);
const OSV_MB = Number(process.env.BENCH_SCAN_OSV_MB ?? 100);
const DISTINCT = process.env.BENCH_SCAN_DISTINCT === '1';
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-scan-'));
const signal = AbortSignal.timeout(3_600_000);
const status = readFileSync('/var/lib/dpkg/status', 'utf8');
const pkgs = parseDpkgStatus(status, 'var/lib/dpkg/status');
const rows: [string, string, string][] = [];
/** Each figure is printed as soon as it is measured (the run is long) and again in the table. */
const report = (row: [string, string, string]): void => {
  rows.push(row);
  process.stdout.write(`${row.join(' | ')}\n`);
};
/** Wall time, and this process's CPU time (user + system: what other load on the machine inflates least). */
const time = async <T>(f: () => Promise<T>): Promise<[T, string]> => {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const r = await f();
  const used = process.cpuUsage(cpu);
  return [r, `${((performance.now() - t) / 1000).toFixed(2)} s (cpu ${((used.user + used.system) / 1e6).toFixed(2)} s)`];
};

/** Runs `f`, under the V8 CPU profiler when BENCH_SCAN_PROFILE names a file to write. */
async function profiled<T>(f: () => Promise<T>): Promise<T> {
  const file = process.env.BENCH_SCAN_PROFILE;
  if (!file) return f();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await f();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

try {
  // 1. Inventory of a MIB-sized image with thousands of files, read through the fs blob store.
  const blobs = await FsBlobStore.open({ root: join(dir, 'blobs') });
  const layers: Digest[] = [];
  const perLayer = Math.ceil(MIB / 4);
  let files = 0;
  for (let l = 0; l < 4; l++) {
    const entries: TarEntry[] = [];
    if (l === 0) entries.push({ name: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\n' }, { name: 'var/lib/dpkg/status', data: status });
    for (let i = 0; i < 1000; i++) entries.push({ name: `app${l}/node_modules/pkg-${l}-${i}/package.json`, data: JSON.stringify({ name: `pkg-${l}-${i}`, version: '1.0.0' }) });
    // Half random (incompressible), half text, in 64 KiB files: realistic bytes and file counts.
    const chunk = 64 * 1024;
    for (let i = 0; i < (perLayer * 1024 * 1024) / chunk; i++) entries.push({ name: `data${l}/f${i}.bin`, data: i % 2 ? randomBytes(chunk) : Buffer.alloc(chunk, `line ${i}\n`) });
    files += entries.length;
    const gz = gzipSync(await tarOf(entries), { level: 1 });
    const digest = sha256(gz) as Digest;
    await blobs.appendUpload(`bench${l}`, 0, Readable.from([gz]), signal);
    await blobs.commitUpload(`bench${l}`, digest, signal);
    layers.push(digest);
  }
  const [inv, invSecs] = await time(() => readInventory(layers, blobs, DEFAULT_LAYER_LIMITS, signal));
  report([`inventory of a ${MIB} MiB image (${files} files, ${inv.packages.length} packages)`, invSecs, '< 5 s']);

  // 3 (first, it makes the database the re-evaluation uses). A synthetic OSV all.zip of OSV_MB.
  const osvDir = join(dir, 'osv');
  mkdirSync(osvDir);
  const filler = 'x'.repeat(700);
  /** One synthetic record; `version` 2 is the changed database the re-evaluation runs against. */
  const record = (n: number, version: 1 | 2): string => {
    const p = pkgs[n % pkgs.length]!;
    // About 1 record in 100 names an installed package (a Debian source or an npm package of the
    // image), as in a real export where most advisories are for software an image lacks.
    const hits = n % 100 === 0;
    // Version 2 modifies ~1 % of the records (a new description, and for one in three a lower
    // CVSS vector or a withdrawal), as a daily update of an export does.
    const changed = version === 2 && n % 97 === 0;
    return JSON.stringify({
      id: `BENCH-${n}`, modified: changed ? '2024-02-01T00:00:00Z' : '2024-01-01T00:00:00Z', summary: `synthetic ${n}`, details: changed ? `${filler} (revised)` : filler,
      ...(changed && n % 3 === 1 ? { withdrawn: '2024-02-01T00:00:00Z' } : {}),
      severity: [{ type: 'CVSS_V3', score: changed && n % 3 === 2 ? 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N' : 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [{
        package: { ecosystem: n % 200 === 0 ? 'npm' : 'Debian:12', name: hits ? (n % 200 === 0 ? `pkg-0-${n % 1000}` : p.source!.name) : `absent-${n}` },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: n % 300 === 100 ? '0.0.1' : `${p.source!.version}+fix` }] }],
      }],
    });
  };
  let bytes = 0;
  let n = 0;
  while (bytes < OSV_MB * 1024 * 1024) {
    const rec = record(n, 1);
    writeFileSync(join(osvDir, `BENCH-${n}.json`), rec);
    bytes += rec.length;
    n++;
  }
  const zipOf = (file: string): string => {
    rmSync(file, { force: true });
    const z = spawnSync('zip', ['-q', '-1', '-r', file, '.'], { cwd: osvDir });
    if (z.status !== 0) throw new Error(`zip failed: ${z.stderr.toString()}`);
    return file;
  };
  const zipFile = zipOf(join(dir, 'all.zip'));
  const dbPath = join(dir, 'vulndb.sqlite');
  const [count, impSecs] = await time(() => importVulnDb(dbPath, readOsv(zipFile), zipFile));
  report([`import of a ${(bytes / 1024 / 1024).toFixed(0)} MB OSV export (${(statSync(zipFile).size / 1024 / 1024).toFixed(0)} MB zip, ${count} records)`, impSecs, '< 60 s']);

  // 2. Re-evaluating IMAGES stored inventories: a first match against the database above (every
  // image in full), then against a changed export (each image against the changed records only).
  const { db, sql } = await openSqlite<ScanSchema>(join(dir, 'meta.db'));
  const scans = new SqliteScanStore(db, sql);
  const meta = new MemoryMetaStore();
  await meta.createRepository(repoKey('000000000000', 'bench'), signal);
  await scans.putRegistryConfig('000000000000', { scanType: 'BASIC', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] }, signal);
  // A typical OS image inventory (this machine's dpkg database, ~800 packages, plus a few npm
  // packages), not the synthetic 200 MiB one with thousands of generated npm packages.
  const typical = { os: { id: 'debian', versionId: '12' }, notes: [], packages: [...pkgs, ...inv.packages.filter((p) => p.type === 'npm').slice(0, 50)] };
  const inventoryOf = (i: number): typeof typical => {
    if (!DISTINCT) return typical;
    const layer = sha256(Buffer.from(`app-layer-${i}`)) as Digest;
    return { ...typical, packages: [...pkgs, ...typical.packages.slice(pkgs.length).map((p) => ({ ...p, layer })), { type: 'npm', name: `own-${i}`, version: '1.0.0', path: `app/node_modules/own-${i}/package.json`, layer }] };
  };
  for (let i = 0; i < IMAGES; i++) {
    const digest = sha256(Buffer.from(`image-${i}`)) as Digest;
    await scans.putInventory(digest, inventoryOf(i), signal);
    await scans.putScan({ accountId: '000000000000', repository: 'bench', digest, status: 'COMPLETE', description: '', scanType: 'BASIC', startedAt: new Date(), completedAt: new Date(), findings: [], firstObserved: {} }, signal);
  }
  const vulnDb = await SqliteVulnDb.open(dbPath);
  const handlers = scanHandlers({ meta, blobs, scans, vulnDb, events: new LocalEventBus(), limits: DEFAULT_LAYER_LIMITS });
  const reevaluate = (): Promise<void> => handlers[REEVALUATE_JOB]!({ id: 'bench', kind: REEVALUATE_JOB, payload: {}, attempts: 1, leaseUntil: new Date() }, signal);
  const key0 = { accountId: '000000000000', repository: 'bench', digest: sha256(Buffer.from('image-0')) as Digest };
  const [, firstSecs] = await time(reevaluate);
  const first = await scans.getScan(key0, signal);
  const kind = DISTINCT ? 'distinct' : 'identical';
  report([`first match of ${IMAGES} ${kind} stored inventories (${typical.packages.length} packages, ${first?.findings.length ?? 0} findings each; in full)`, firstSecs, '(none)']);

  // The changed export: ~1 % of records modified (some withdrawn), 100 deleted, 500 added (one in
  // ten for an installed package).
  let removed = 0;
  for (let i = 0; i < n; i++) {
    if (i % 1009 === 5) {
      rmSync(join(osvDir, `BENCH-${i}.json`));
      removed++;
    } else if (i % 97 === 0) writeFileSync(join(osvDir, `BENCH-${i}.json`), record(i, 2));
  }
  for (let i = 0; i < 500; i++) {
    const p = pkgs[(i * 7) % pkgs.length]!;
    writeFileSync(join(osvDir, `BENCH-NEW-${i}.json`), JSON.stringify({
      id: `BENCH-NEW-${i}`, modified: '2024-02-01T00:00:00Z', summary: `new ${i}`, details: filler,
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N' }],
      affected: [{ package: { ecosystem: 'Debian:12', name: i % 10 === 0 ? p.source!.name : `absent-new-${i}` }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: `${p.source!.version}+fix` }] }] }],
    }));
  }
  const zip2 = zipOf(join(dir, 'all-2.zip'));
  const [count2, imp2Secs] = await time(() => importVulnDb(dbPath, readOsv(zip2), zip2));
  report([`import of the changed export (${count2} records; ${Math.ceil(n / 97)} modified, ${removed} deleted, 500 added)`, imp2Secs, '< 60 s']);
  await vulnDb.reload(signal);
  const [, reSecs] = await time(() => profiled(reevaluate));
  const again = await scans.getScan(key0, signal);
  // The incremental result must be what a full match gives (test/scan/reevaluate.test.ts proves it
  // in detail; this guards the bench's own figure).
  const full = await matchInventory(inventoryOf(0), vulnDb, signal);
  const same = isDeepStrictEqual(JSON.parse(JSON.stringify(again?.findings)), JSON.parse(JSON.stringify(full)));
  if (!same) throw new Error('re-evaluated findings differ from a full match');
  report([`re-evaluation of ${IMAGES} ${kind} stored inventories against the changed database (${again?.findings.length ?? 0} findings each, was ${first?.findings.length ?? 0}; equal to a full match)`, reSecs, '< 10 s']);
  await vulnDb.close();
  await db.destroy();
  await blobs.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const w = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`\nberth scanner bench (${new Date().toISOString()})\n${'figure'.padEnd(w)} | measured              | target\n`);
for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w)} | ${b.padStart(21)} | ${c}\n`);
