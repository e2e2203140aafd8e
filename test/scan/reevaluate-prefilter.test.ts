// Re-evaluation matches only the packages a changed record names (ChangeSet.named). These tests fail
// if that pre-filter drops a package it should re-match: one named only through its dpkg `Source:`,
// one whose name differs from the record's but is the same PyPI name, one advised under another of
// its OS's ecosystems (Ubuntu's LTS and Pro variants).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { LocalEventBus } from '../../src/core/events.js';
import type { OsvRecord } from '../../src/core/ports/vuln-db.js';
import { repoKey } from '../../src/core/repo-key.js';
import { lookupNames, type Finding, type InstalledPackage, type Inventory } from '../../src/core/scanning.js';
import { DEFAULT_LAYER_LIMITS } from '../../src/scan/layers/limits.js';
import { changesDb } from '../../src/scan/match/changes.js';
import { queriesFor } from '../../src/scan/match/ecosystems.js';
import { matchInventory } from '../../src/scan/match/match.js';
import { REEVALUATE_JOB } from '../../src/scan/service.js';
import { scanHandlers } from '../../src/scan/worker.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import type { ScanSchema } from '../../src/storage/meta/migrations/scan-schema.js';
import { openPostgresScanStore, type PgScanStore } from '../../src/storage/meta/postgres/pg-scan-store.js';
import { openSqlite } from '../../src/storage/meta/sqlite/open.js';
import { SqliteScanStore } from '../../src/storage/meta/sqlite/sqlite-scan-store.js';
import { importVulnDb, SqliteVulnDb } from '../../src/storage/vuln/sqlite-vuln-db.js';
import { migratedDatabases } from '../support/pg-databases.js';
import { POSTGRES_SKIP, skipReason } from '../support/servers.js';

const s = (): AbortSignal => AbortSignal.timeout(20_000);
const dir = mkdtempSync(join(tmpdir(), 'berth-prefilter-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const databases = migratedDatabases();
after(() => databases.dropAll());

const ACCOUNT = '000000000000';
const deb = (name: string, version: string, source?: { name: string; version: string }): InstalledPackage => ({
  type: 'deb', name, version, path: 'var/lib/dpkg/status', arch: 'amd64', ...(source ? { source } : {}),
});
const osv = (id: string, ecosystem: string, name: string, fixed: string, modified = '2024-01-01T00:00:00Z'): OsvRecord => ({
  id, modified, summary: id, details: id,
  affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
});

/** Each image's only affected package is reached by one lookup rule; `filler` is never named. */
const filler = deb('tzdata', '2024a-0');
const INVENTORIES: Record<string, Inventory> = {
  // libssl3's Source: is openssl (at another version); no package is called openssl.
  source: { os: { id: 'debian', versionId: '12' }, notes: [], packages: [filler, deb('libssl3', '3.0.11-1', { name: 'openssl', version: '3.0.11-1' })] },
  // Installed as Foo_Bar; the advisory names foo.bar (the same PyPI name, PEP 503).
  pypi: { os: { id: 'debian', versionId: '12' }, notes: [], packages: [filler, { type: 'pypi', name: 'Foo_Bar', version: '1.0', path: 'usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA' }] },
  // Ubuntu 22.04: advisories come under Ubuntu:22.04:LTS and Ubuntu:Pro:22.04:LTS.
  ubuntu: { os: { id: 'ubuntu', versionId: '22.04' }, notes: [], packages: [deb('tzdata', '2024a-0ubuntu0.22.04'), deb('curl', '7.81.0-1ubuntu1.15')] },
};
/**
 * Images no changed record names (skipped without reading their inventory), one of them holding a
 * finding of a record the changed database deletes: that one must still lose it.
 */
const UNNAMED: Record<string, Inventory> = {
  quiet: { os: { id: 'debian', versionId: '12' }, notes: [], packages: [filler] },
  gone: { os: { id: 'debian', versionId: '12' }, notes: [], packages: [filler, deb('bash', '5.2.15-2')] },
};
const digestOf = (name: string): Digest => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0')}` as Digest;

/** The first database; the changed one deletes DEL-1. */
const V1: OsvRecord[] = [osv('DEL-1', 'Debian:12', 'bash', '5.3')];
/** The changed database: only these records, each new, for one image's affected package. */
const CHANGED: OsvRecord[] = [
  osv('DSA-SRC', 'Debian:12', 'openssl', '3.0.13-1'),
  osv('PYSEC-1', 'PyPI', 'foo.bar', '1.1'),
  osv('USN-PRO', 'Ubuntu:Pro:22.04:LTS', 'curl', '7.81.0-1ubuntu1.16'),
  // Names that look alike but must not match: another release, another ecosystem.
  osv('DSA-OLD', 'Debian:11', 'openssl', '3.0.13-1'),
  osv('GHSA-NPM', 'npm', 'openssl', '9.9.9'),
];
const EXPECTED: Record<string, [string, string][]> = {
  source: [['DSA-SRC', 'libssl3']],
  pypi: [['PYSEC-1', 'Foo_Bar']],
  ubuntu: [['USN-PRO', 'curl']],
  quiet: [],
  gone: [],
};

describe('lookupNames (stored with each inventory) lists every name queriesFor looks up', () => {
  it('for every package type, with and without a source package, on every OS with ecosystems', () => {
    const types: InstalledPackage['type'][] = ['deb', 'apk', 'rpm', 'npm', 'pypi', 'golang', 'maven', 'cargo'];
    const packages = types.flatMap((type, i) => [
      { type, name: `${type}-bin-${i}`, version: '1.0', path: `p/${i}` },
      { type, name: `${type}-other-${i}`, version: '1.0-1', path: `q/${i}`, source: { name: `${type}-src-${i}`, version: '1.0' } },
    ]);
    const oses = [{ id: 'debian', versionId: '12' }, { id: 'ubuntu', versionId: '22.04' }, { id: 'alpine', versionId: '3.19.1' }, { id: 'rocky', versionId: '9.3' }, { id: 'wolfi' }, undefined];
    for (const os of oses) {
      const inventory: Inventory = { ...(os ? { os } : {}), notes: [], packages };
      const names = new Set(lookupNames(inventory));
      for (const p of packages) for (const q of queriesFor(p, os)) assert.ok(names.has(q.name), `${q.name} (${q.ecosystem}) listed`);
    }
  });
});

async function* each(records: OsvRecord[]): AsyncIterable<OsvRecord> {
  yield* records;
}
const plain = (findings: readonly Finding[]): unknown => JSON.parse(JSON.stringify(findings));

describe('ChangeSet.named keeps every package a changed record names', () => {
  const changes = changesDb({ records: [...V1, ...CHANGED], removed: [] });
  for (const [image, inventory] of Object.entries(INVENTORIES)) {
    it(`${image}: the affected package is kept, the filler dropped, and matching the kept ones equals matching all`, async () => {
      const named = changes.named(inventory);
      assert.deepEqual(named.map((p) => p.name), EXPECTED[image]!.map(([, name]) => name));
      assert.ok(named.every((p) => inventory.packages.includes(p)), 'the inventory\'s own package objects');
      const all = await matchInventory(inventory, changes.db, s());
      assert.deepEqual((await matchInventory({ ...inventory, packages: named }, changes.db, s())), all);
      assert.deepEqual(all.map((f) => [f.vulnerabilityId, f.package.name]), EXPECTED[image]);
    });
  }

  it('keeps nothing when no changed record names a package of the image', () => {
    const changes = changesDb({ records: CHANGED.slice(3), removed: ['DSA-GONE'] });
    assert.deepEqual(changes.named(INVENTORIES.source!), []);
    // By lookup names alone: openssl is named (by the npm and Debian:11 records: mayName ignores
    // ecosystems, so it may say yes where named() then finds nothing, never the reverse).
    assert.equal(changes.mayName(lookupNames(INVENTORIES.source!)), true);
    assert.equal(changes.mayName(lookupNames(UNNAMED.gone!)), false);
  });

  it('mayName is true for every image whose named() is not empty', () => {
    const changes = changesDb({ records: CHANGED, removed: [] });
    for (const inventory of Object.values(INVENTORIES)) assert.equal(changes.mayName(lookupNames(inventory)), true);
    for (const inventory of Object.values(UNNAMED)) assert.equal(changes.mayName(lookupNames(inventory)), false);
  });
});

/** Counts inventory reads per digest (the skipped images must not be read). */
function counted<T extends SqliteScanStore | PgScanStore>(scans: T): { scans: T; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const get = scans.getInventory.bind(scans);
  scans.getInventory = (digest, signal) => {
    reads.set(digest, (reads.get(digest) ?? 0) + 1);
    return get(digest, signal);
  };
  return { scans, reads };
}

const ALL = { ...INVENTORIES, ...UNNAMED };

/** `legacy`: the inventory rows as written before migration 0012 (no names, no text hash). */
async function reevaluated(backend: 'sqlite' | 'postgres', legacy = false): Promise<void> {
  const path = join(dir, `vulndb-${backend}.sqlite`);
  await importVulnDb(path, each(V1), 'v1');
  const vulnDb = await SqliteVulnDb.open(path);
  let store: SqliteScanStore | PgScanStore;
  let close: () => Promise<void>;
  /** Makes the inventory rows look as if written before migration 0012. */
  let forget: () => Promise<unknown>;
  if (backend === 'postgres') {
    const url = (await databases.fresh()).url;
    const pg = await openPostgresScanStore({ url, poolSize: 4 });
    store = pg;
    close = () => pg.close();
    forget = async () => {
      const client = new (await import('pg')).default.Client({ connectionString: url });
      await client.connect();
      await client.query('DELETE FROM image_inventory_index');
      await client.end();
    };
  } else {
    const { db, sql } = await openSqlite<ScanSchema>(join(dir, `meta-${legacy}.db`));
    store = new SqliteScanStore(db, sql);
    close = () => db.destroy();
    forget = () => db.deleteFrom('image_inventory_index').execute();
  }
  const { scans, reads } = counted(store);
  const meta = new MemoryMetaStore();
  await meta.createRepository(repoKey(ACCOUNT, 'app'), s());
  await scans.putRegistryConfig(ACCOUNT, { scanType: 'BASIC', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] }, s());
  for (const [image, inventory] of Object.entries(ALL)) {
    await scans.putInventory(digestOf(image), inventory, s());
    await scans.putScan({ accountId: ACCOUNT, repository: 'app', digest: digestOf(image), status: 'COMPLETE', description: '', scanType: 'BASIC', startedAt: new Date(0), completedAt: new Date(0), findings: [], firstObserved: {} }, s());
  }
  const handlers = scanHandlers({ meta, blobs: new MemoryBlobStore(), scans, vulnDb, events: new LocalEventBus(), limits: DEFAULT_LAYER_LIMITS });
  const reevaluate = () => handlers[REEVALUATE_JOB]!({ id: 'j', kind: REEVALUATE_JOB, payload: {}, attempts: 1, leaseUntil: new Date() }, s());
  const scanOf = (image: string) => scans.getScan({ accountId: ACCOUNT, repository: 'app', digest: digestOf(image) }, s());
  await reevaluate();
  assert.deepEqual((await scanOf('gone'))!.findings.map((f) => f.vulnerabilityId), ['DEL-1']);
  if (legacy) await forget();
  await importVulnDb(path, each(CHANGED), 'v2');
  assert.equal(await vulnDb.reload(s()), true);
  reads.clear();
  await reevaluate();
  for (const image of Object.keys(ALL)) {
    const r = (await scanOf(image))!;
    assert.deepEqual(r.evaluatedWith, (await vulnDb.info(s()))!.version, `${image}: matched against the change set`);
    assert.deepEqual(r.findings.map((f) => [f.vulnerabilityId, f.package.name]), EXPECTED[image], `${image}: the new finding`);
    assert.deepEqual(plain(r.findings), plain(await matchInventory(ALL[image]!, vulnDb, s())), `${image}: = a full match`);
  }
  // Images no changed record names are not read, unless their rows predate the names (or, like
  // `gone`, they hold a finding of a changed record).
  assert.equal(reads.get(digestOf('quiet')), legacy ? 1 : undefined, 'quiet: inventory read?');
  assert.equal(reads.get(digestOf('gone')), 1);
  await vulnDb.close();
  await close();
}

describe('re-evaluation against a change set finds packages named only indirectly', () => {
  it('on SQLite', () => reevaluated('sqlite'));
  it('on SQLite, inventories stored before their names were kept', () => reevaluated('sqlite', true));
  it('on PostgreSQL', { skip: skipReason(POSTGRES_SKIP) }, () => reevaluated('postgres'));
  it('on PostgreSQL, inventories stored before their names were kept', { skip: skipReason(POSTGRES_SKIP) }, () => reevaluated('postgres', true));
});
