import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { LocalEventBus, type DomainEvent } from '../../src/core/events.js';
import type { OsvRecord, VulnDb } from '../../src/core/ports/vuln-db.js';
import { repoKey } from '../../src/core/repo-key.js';
import type { Finding, Inventory, ScanRecord } from '../../src/core/scanning.js';
import { DEFAULT_LAYER_LIMITS } from '../../src/scan/layers/limits.js';
import { matchInventory } from '../../src/scan/match/match.js';
import { REEVALUATE_JOB } from '../../src/scan/service.js';
import { scanHandlers } from '../../src/scan/worker.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import type { ScanSchema } from '../../src/storage/meta/migrations/scan-schema.js';
import { openSqlite } from '../../src/storage/meta/sqlite/open.js';
import { SqliteScanStore } from '../../src/storage/meta/sqlite/sqlite-scan-store.js';
import { openPostgresScanStore, type PgScanStore } from '../../src/storage/meta/postgres/pg-scan-store.js';
import { importVulnDb, SqliteVulnDb } from '../../src/storage/vuln/sqlite-vuln-db.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';

const s = (): AbortSignal => AbortSignal.timeout(20_000);
const dir = mkdtempSync(join(tmpdir(), 'berth-reeval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ACCOUNT = '000000000000';
const CVSS_CRIT = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const CVSS_LOW = 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N';

const deb = (name: string, version: string, source?: string): Inventory['packages'][number] => ({
  type: 'deb', name, version, path: 'var/lib/dpkg/status', arch: 'amd64', ...(source ? { source: { name: source, version } } : {}),
});
/** Two images sharing a base, one with an npm app; a third image with nothing the changes touch. */
const BASE = [deb('libssl3', '3.0.11-1', 'openssl'), deb('openssl', '3.0.11-1'), deb('zlib1g', '1:1.2.13-1', 'zlib'), deb('bash', '5.2.15-2')];
const INVENTORIES: Record<string, Inventory> = {
  web: { os: { id: 'debian', versionId: '12' }, notes: [], packages: [...BASE, { type: 'npm', name: 'lodash', version: '4.17.20', path: 'app/node_modules/lodash/package.json' }] },
  worker: { os: { id: 'debian', versionId: '12' }, notes: ['a note'], packages: [...BASE, deb('curl', '7.88.1-10')] },
  quiet: { os: { id: 'debian', versionId: '12' }, notes: [], packages: [deb('tzdata', '2024a-0')] },
};
const digestOf = (name: string): Digest => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0')}` as Digest;

const osv = (id: string, eco: string, name: string, fixed: string | undefined, extra: Partial<OsvRecord> = {}): OsvRecord => ({
  id, modified: '2024-01-01T00:00:00Z', summary: `${id} summary`, details: `${id} details`, aliases: [`CVE-${id}`],
  severity: [{ type: 'CVSS_V3', score: CVSS_CRIT }], references: [{ url: `https://example.test/${id}` }],
  affected: [{ package: { ecosystem: eco, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, ...(fixed ? [{ fixed }] : [])] }] }],
  ...extra,
});

/** The first database and a changed one: modified, withdrawn, deleted, new, and untouched records. */
const V1: OsvRecord[] = [
  osv('DSA-1', 'Debian:12', 'openssl', '3.0.13-1'),
  osv('DSA-2', 'Debian:12', 'zlib', '1:1.2.13-2'),
  osv('DSA-3', 'Debian:12', 'curl', '7.88.1-11'),
  osv('DSA-4', 'Debian:12', 'bash', undefined),
  osv('GHSA-1', 'npm', 'lodash', '4.17.21', { database_specific: { severity: 'MODERATE' }, severity: [] }),
  osv('DSA-5', 'Debian:12', 'tzdata', '2023a-0'),
  osv('DSA-9', 'Debian:11', 'openssl', '3.0.13-1'),
];
const V2: OsvRecord[] = [
  // Changed: a lower score and a different fix (severity and fixedInVersion of existing findings change).
  osv('DSA-1', 'Debian:12', 'openssl', '3.0.12-1', { modified: '2024-02-01T00:00:00Z', severity: [{ type: 'CVSS_V3', score: CVSS_LOW }] }),
  // Withdrawn: its findings disappear.
  osv('DSA-2', 'Debian:12', 'zlib', '1:1.2.13-2', { withdrawn: '2024-02-01T00:00:00Z' }),
  // DSA-3 is deleted from the export.
  osv('DSA-4', 'Debian:12', 'bash', undefined),
  // Changed so it no longer affects the installed version.
  osv('GHSA-1', 'npm', 'lodash', '4.17.21', { database_specific: { severity: 'MODERATE' }, severity: [], affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '4.17.21' }] }] }] }),
  osv('DSA-5', 'Debian:12', 'tzdata', '2023a-0'),
  // Changed, but for another release: no image's findings change.
  osv('DSA-9', 'Debian:11', 'openssl', '3.0.14-1'),
  // New.
  osv('DSA-6', 'Debian:12', 'openssl', undefined, { summary: 'new one' }),
  osv('GHSA-2', 'npm', 'lodash', '4.17.22'),
];

async function* each(records: OsvRecord[]): AsyncIterable<OsvRecord> {
  yield* records;
}

type Backend = 'sqlite' | 'postgres';
const databases = migratedDatabases();
after(() => databases.dropAll());

/** The scan store of a new database on `backend`, and how to close it. */
async function openScans(name: string, backend: Backend): Promise<{ scans: SqliteScanStore | PgScanStore; close: () => Promise<void> }> {
  if (backend === 'postgres') {
    const scans = await openPostgresScanStore({ url: (await databases.fresh()).url, poolSize: 4 });
    return { scans, close: () => scans.close() };
  }
  const { db, sql } = await openSqlite<ScanSchema>(join(dir, `${name}.db`));
  return { scans: new SqliteScanStore(db, sql), close: () => db.destroy() };
}

/** A registry with the three images in one CONTINUOUS_SCAN repository, scans not yet matched. */
async function setup(name: string, backend: Backend = 'sqlite') {
  const { scans, close } = await openScans(name, backend);
  const meta = new MemoryMetaStore();
  await meta.createRepository(repoKey(ACCOUNT, 'app'), s());
  await scans.putRegistryConfig(ACCOUNT, { scanType: 'ENHANCED', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: 'app', filterType: 'WILDCARD' }] }] }, s());
  for (const [image, inventory] of Object.entries(INVENTORIES)) {
    await scans.putInventory(digestOf(image), inventory, s());
    await scans.putScan({ accountId: ACCOUNT, repository: 'app', digest: digestOf(image), status: 'COMPLETE', description: '', scanType: 'ENHANCED', startedAt: new Date(0), completedAt: new Date(0), findings: [], firstObserved: {} }, s());
  }
  return { scans, meta, close };
}

/** Counts full-database lookups and change-set requests of a VulnDb. */
function spied(db: VulnDb) {
  const calls = { affecting: 0, changedSince: 0, incremental: 0 };
  const spy: VulnDb = {
    info: (sig) => db.info(sig),
    reload: (sig) => db.reload(sig),
    close: () => db.close(),
    affecting: (e, n, sig) => {
      calls.affecting++;
      return db.affecting(e, n, sig);
    },
    changedSince: async (v, sig) => {
      calls.changedSince++;
      const c = await db.changedSince(v, sig);
      if (c) calls.incremental++;
      return c;
    },
  };
  return { spy, calls };
}

const plain = (findings: readonly Finding[]): unknown => JSON.parse(JSON.stringify(findings));
const key = (image: string) => ({ accountId: ACCOUNT, repository: 'app', digest: digestOf(image) });

/** The re-evaluation over a scan store on `backend` (both must give exactly the same results). */
async function incrementalEqualsFull(backend: Backend): Promise<void> {
  const path = join(dir, `vulndb-${backend}.sqlite`);
  await importVulnDb(path, each(V1), 'v1');
  const vulnDb = await SqliteVulnDb.open(path);
  const { spy, calls } = spied(vulnDb);
  const { scans, meta, close } = await setup('incremental', backend);
  const events: DomainEvent[] = [];
  const bus = new LocalEventBus();
  bus.subscribe((e) => events.push(e));
  let clock = 1_000;
  const handlers = scanHandlers({ meta, blobs: new MemoryBlobStore(), scans, vulnDb: spy, events: bus, limits: DEFAULT_LAYER_LIMITS, now: () => new Date(clock) });
  const reevaluate = () => handlers[REEVALUATE_JOB]!({ id: 'j', kind: REEVALUATE_JOB, payload: {}, attempts: 1, leaseUntil: new Date() }, s());

  // First pass: nothing was matched before, so every image is matched in full.
  await reevaluate();
  const v1 = (await vulnDb.info(s()))!.version!;
  const first: Record<string, ScanRecord> = {};
  for (const image of Object.keys(INVENTORIES)) {
    const r = (await scans.getScan(key(image), s()))!;
    first[image] = r;
    assert.deepEqual(r.evaluatedWith, v1);
    assert.deepEqual(plain(r.findings), plain(await matchInventory(INVENTORIES[image]!, vulnDb, s())), `${image}: first pass = full match`);
  }
  assert.deepEqual(first.web!.findings.map((f) => [f.vulnerabilityId, f.package.name, f.severity, f.fixedInVersion ?? null]), [
    ['DSA-1', 'libssl3', 'CRITICAL', '3.0.13-1'], ['DSA-1', 'openssl', 'CRITICAL', '3.0.13-1'],
    ['DSA-2', 'zlib1g', 'CRITICAL', '1:1.2.13-2'], ['DSA-4', 'bash', 'CRITICAL', null], ['GHSA-1', 'lodash', 'MEDIUM', '4.17.21'],
  ]);
  assert.equal(first.quiet!.findings.length, 0);

  // The changed database.
  await importVulnDb(path, each(V2), 'v2');
  assert.equal(await vulnDb.reload(s()), true);
  const v2info = (await vulnDb.info(s()))!;
  assert.notEqual(v2info.version!.importId, v1.importId);
  assert.equal(v2info.version!.generation, 2);
  calls.affecting = 0;
  clock = 2_000;
  events.length = 0;
  await reevaluate();
  assert.equal(calls.affecting, 0, 'no image was matched against the whole database');
  assert.ok(calls.incremental >= 1, 'images were matched against the change set');

  for (const image of Object.keys(INVENTORIES)) {
    const r = (await scans.getScan(key(image), s()))!;
    const full = await matchInventory(INVENTORIES[image]!, vulnDb, s());
    assert.deepEqual(plain(r.findings), plain(full), `${image}: incremental = full re-scan`);
    assert.deepEqual(r.evaluatedWith, v2info.version);
    assert.equal(r.completedAt?.getTime(), 2_000, `${image}: re-evaluated now`);
    assert.equal(r.vulnSourceUpdatedAt?.getTime(), v2info.importedAt.getTime());
    assert.equal(r.status, 'COMPLETE');
    assert.equal(r.scanType, 'ENHANCED');
    // First-seen times survive for findings that stay and start now for new ones.
    for (const f of r.findings) assert.equal(r.firstObserved[f.vulnerabilityId], first[image]!.firstObserved[f.vulnerabilityId] ?? 2_000);
    assert.deepEqual(Object.keys(r.firstObserved).sort(), [...new Set(r.findings.map((f) => f.vulnerabilityId))].sort());
  }
  const web = (await scans.getScan(key('web'), s()))!;
  assert.deepEqual(web.findings.map((f) => [f.vulnerabilityId, f.package.name, f.severity, f.fixedInVersion ?? null, f.cvss?.score ?? null]), [
    ['DSA-4', 'bash', 'CRITICAL', null, 9.8], ['DSA-6', 'libssl3', 'CRITICAL', null, 9.8], ['DSA-6', 'openssl', 'CRITICAL', null, 9.8],
    ['GHSA-2', 'lodash', 'CRITICAL', '4.17.22', 9.8], ['DSA-1', 'libssl3', 'LOW', '3.0.12-1', 3.7], ['DSA-1', 'openssl', 'LOW', '3.0.12-1', 3.7],
  ]);
  // The untouched image keeps its findings and first-seen times (only marked re-evaluated).
  const quiet = (await scans.getScan(key('quiet'), s()))!;
  assert.deepEqual(quiet.firstObserved, first.quiet!.firstObserved);
  // Every re-evaluated image is announced with its counts.
  assert.deepEqual(events.map((e) => e.type === 'image.scanned' ? [e.digest, e.findingSeverityCounts] : []).sort(), [
    [digestOf('quiet'), {}],
    [digestOf('web'), { CRITICAL: 4, LOW: 2 }],
    [digestOf('worker'), { CRITICAL: 3, LOW: 2 }],
  ].sort());

  // The same result as a registry that matches every image in full against the changed database.
  const fresh = await setup('full', backend);
  const fullHandlers = scanHandlers({ meta: fresh.meta, blobs: new MemoryBlobStore(), scans: fresh.scans, vulnDb, events: new LocalEventBus(), limits: DEFAULT_LAYER_LIMITS });
  await fullHandlers[REEVALUATE_JOB]!({ id: 'j', kind: REEVALUATE_JOB, payload: {}, attempts: 1, leaseUntil: new Date() }, s());
  for (const image of Object.keys(INVENTORIES)) {
    assert.deepEqual(plain((await fresh.scans.getScan(key(image), s()))!.findings), plain((await scans.getScan(key(image), s()))!.findings));
  }

  // An identical re-import changes nothing: every image is only touched.
  await importVulnDb(path, each(V2), 'v3');
  await vulnDb.reload(s());
  clock = 3_000;
  const before = await scans.getScan(key('web'), s());
  await reevaluate();
  assert.equal(calls.affecting, 0);
  const after3 = (await scans.getScan(key('web'), s()))!;
  assert.deepEqual(plain(after3.findings), plain(before!.findings));
  assert.equal(after3.completedAt?.getTime(), 3_000);
  assert.equal(after3.evaluatedWith?.generation, 3);

  // A database that is not a descendant (a new chain) is matched in full.
  rmSync(path);
  await importVulnDb(path, each(V1), 'again');
  await vulnDb.reload(s());
  await reevaluate();
  assert.ok(calls.affecting > 0, 'matched against the whole database');
  assert.deepEqual(plain((await scans.getScan(key('web'), s()))!.findings), plain(first.web!.findings));
  await vulnDb.close();
  await close();
  await fresh.close();
}

describe('continuous re-evaluation matches only what changed', () => {
  it('gives exactly the findings, severities, fixes and counts a full re-scan gives, touching images whose findings stay', () => incrementalEqualsFull('sqlite'));

  it('gives the same over the PostgreSQL scan store', { skip: skipReason(POSTGRES_SKIP) }, () => incrementalEqualsFull('postgres'));

  it('stores findings by reference and reads back exactly what was written, with or without an inventory', async () => {
    const { scans, close } = await setup('codec');
    const vulnDb = await SqliteVulnDb.open(join(dir, 'codec-vulndb.sqlite'));
    await importVulnDb(join(dir, 'codec-vulndb.sqlite'), each(V1), 'v1');
    await vulnDb.reload(s());
    const findings = await matchInventory(INVENTORIES.worker!, vulnDb, s());
    const record: ScanRecord = { ...key('worker'), status: 'COMPLETE', description: 'd', scanType: 'BASIC', startedAt: new Date(5), completedAt: new Date(6), findings, firstObserved: { 'DSA-1': 5 } };
    await scans.putScan(record, s());
    // An image whose inventory is not stored keeps its packages inline.
    await scans.putScan({ ...record, digest: digestOf('elsewhere') }, s());
    // A second store instance (another node) reads without any cache.
    const { db: db2, sql: sql2 } = await openSqlite<ScanSchema>(join(dir, 'codec.db'));
    const other = new SqliteScanStore(db2, sql2);
    for (const d of [digestOf('worker'), digestOf('elsewhere')]) {
      const got = (await other.getScan({ ...key('worker'), digest: d }, s()))!;
      assert.deepEqual(plain(got.findings), plain(findings));
      assert.deepEqual(got.firstObserved, { 'DSA-1': 5 });
    }
    // An inventory is written once: the first stays (findings point into its package list).
    await scans.putInventory(digestOf('worker'), INVENTORIES.quiet!, s());
    assert.deepEqual(await other.getInventory(digestOf('worker'), s()), INVENTORIES.worker);
    await vulnDb.close();
    await close();
    await db2.destroy();
  });
});
