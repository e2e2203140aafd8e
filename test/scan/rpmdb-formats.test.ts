import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OsvRecord } from '../../src/core/ports/vuln-db.js';
import { matchInventory } from '../../src/scan/match/match.js';
import { importVulnDb, SqliteVulnDb } from '../../src/storage/vuln/sqlite-vuln-db.js';
import { bdbPackages, bdbStat, headerBlobs, inventoryOf, missingRpmTools, ndbPackages, rpmQueryAll, rpmSqliteDb, type RpmSpec } from '../fixtures/rpmdb.js';

const s = (): AbortSignal => AbortSignal.timeout(30_000);
const missing = missingRpmTools();
if (missing) console.log(`# skipping the BerkeleyDB/NDB rpmdb tests: ${missing}`);


const ALMA_8 = 'NAME="AlmaLinux"\nVERSION="8.9 (Midnight Oncilla)"\nID="almalinux"\nVERSION_ID="8.9"\n';
const SPECS: RpmSpec[] = [
  { source: 'openssl', name: 'openssl-libs', epoch: 1, version: '1.1.1k', release: '7.el8_6', arch: 'x86_64' },
  { source: 'bash', name: 'bash', version: '4.4.20', release: '4.el8_6', arch: 'x86_64' },
  { source: 'tzdata', name: 'tzdata', version: '2023c', release: '1.el8', arch: 'noarch' },
];
/** What the scanner must list for SPECS, as `name epoch:version-release arch <source`. */
const EXPECTED = ['bash 4.4.20-4.el8_6 x86_64 <bash', 'openssl-libs 1:1.1.1k-7.el8_6 x86_64 <openssl', 'tzdata 2023c-1.el8 noarch <tzdata'];

const listed = (inv: Awaited<ReturnType<typeof inventoryOf>>) => inv.packages.filter((p) => p.type === 'rpm').map((p) => `${p.name} ${p.version} ${p.arch} <${p.source?.name}`).sort();

describe('BerkeleyDB and NDB rpm databases (made by rpmbuild, rpm and db5.3_load)', { skip: missing }, () => {
  let dir = '';
  let sqlite = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-rpmdb-'));
    sqlite = rpmSqliteDb(dir, SPECS);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The findings of an image with `osRelease` and SPECS in a BerkeleyDB rpmdb, matched against `records` only. */
  async function findingsOfBdbImage(name: string, osRelease: string, records: OsvRecord[], pageSize: number) {
    const path = join(dir, `vulndb-${name}.sqlite`);
    await importVulnDb(path, (async function* () { yield* records; })(), 'test');
    const db = await SqliteVulnDb.open(path);
    try {
      const file = bdbPackages(dir, name, headerBlobs(sqlite), { pageSize });
      const inv = await inventoryOf([{ name: 'etc/os-release', data: osRelease }, { name: 'var/lib/rpm/Packages', data: readFileSync(file) }]);
      return await matchInventory(inv, db, s());
    } finally {
      await db.close();
    }
  }

  it('rpm itself lists the fixtures the scanner is checked against', () => {
    const rpm = rpmQueryAll(join(dir, 'db'), 'sqlite');
    assert.deepEqual(rpm, [
      'bash 0:4.4.20-4.el8_6 x86_64 bash-4.4.20-4.el8_6.src.rpm',
      'openssl-libs 1:1.1.1k-7.el8_6 x86_64 openssl-1.1.1k-7.el8_6.src.rpm',
      'tzdata 0:2023c-1.el8 noarch tzdata-2023c-1.el8.src.rpm',
    ]);
  });

  it('reads rpm\'s own WAL-mode rpmdb.sqlite', async () => {
    const inv = await inventoryOf([{ name: 'usr/lib/sysimage/rpm/rpmdb.sqlite', data: readFileSync(sqlite) }]);
    assert.deepEqual(listed(inv), EXPECTED);
    assert.deepEqual(inv.notes, []);
  });

  for (const [label, opts, overflow] of [
    ['4 KiB pages (headers on overflow pages)', {}, true],
    ['512-byte pages (multi-page overflow chains)', { pageSize: 512 }, true],
    ['16 KiB pages (headers inline on the hash page)', { pageSize: 16384 }, false],
    ['a big-endian file (s390x)', { pageSize: 1024, bigEndian: true }, true],
    ['per-page checksums', { pageSize: 512, checksum: true }, true],
  ] as const) {
    it(`reads a BerkeleyDB hash Packages with ${label}`, async () => {
      const name = label.replace(/\W+/g, '-');
      const file = bdbPackages(dir, name, headerBlobs(sqlite), opts);
      const stat = bdbStat(file);
      assert.equal(stat.get('Hash magic number'), '61561');
      assert.equal(Number(stat.get('Number of overflow pages')) > 0, overflow, `db5.3_stat: ${[...stat].join(', ')}`);
      // rpm's bdb_ro does not read checksummed pages; every other variant is cross-checked against rpm.
      if (!('checksum' in opts)) assert.equal(rpmQueryAll(join(dir, name), 'bdb_ro').length, 3, 'rpm reads the same file');
      const inv = await inventoryOf([{ name: 'etc/os-release', data: ALMA_8 }, { name: 'var/lib/rpm/Packages', data: readFileSync(file) }]);
      assert.deepEqual(listed(inv), EXPECTED);
      assert.deepEqual(inv.notes, []);
    });
  }

  it('reads an NDB Packages.db (SUSE) holding rpm\'s header blobs', async () => {
    const ndb = ndbPackages(headerBlobs(sqlite).map((b) => b.blob));
    const inv = await inventoryOf([{ name: 'usr/lib/sysimage/rpm/Packages.db', data: ndb }]);
    assert.deepEqual(listed(inv), EXPECTED);
    assert.deepEqual(inv.notes, []);
  });

  it('reads only the live database when a converted image keeps the old one too', async () => {
    const bdb = readFileSync(bdbPackages(dir, 'leftover', headerBlobs(sqlite)));
    const inv = await inventoryOf([{ name: 'var/lib/rpm/rpmdb.sqlite', data: readFileSync(sqlite) }, { name: 'var/lib/rpm/Packages', data: bdb }]);
    assert.deepEqual(listed(inv), EXPECTED, 'each package once');
    assert.deepEqual(inv.notes, ['var/lib/rpm/Packages: not read; var/lib/rpm/rpmdb.sqlite is the image\'s rpm database']);
  });

  it('finds AlmaLinux 8 advisories for packages of a BerkeleyDB rpmdb, by source rpm and with epochs', async () => {
    const cvss = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H';
    const records: OsvRecord[] = [
      // openssl-libs comes from the openssl source rpm; 1:1.1.1k-7 < 1:1.1.1k-9 → affected, fixed reported.
      { id: 'ALSA-2023:1405', summary: 'openssl security update', severity: [{ type: 'CVSS_V3', score: cvss }], affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:1.1.1k-9.el8_7' }] }] }] },
      // Without the epoch the fix 0:1.1.1k-9 is below the installed 1:1.1.1k-7 → not affected.
      { id: 'ALSA-EPOCH-TRAP', affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1.1k-9.el8_7' }] }] }] },
      // The installed bash is the fixed release → not affected; tzdata has no fix yet → affected, no fixed version.
      { id: 'ALSA-2022:7844', affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.4.20-4.el8_6' }] }] }] },
      { id: 'ALSA-2024:0001', database_specific: { severity: 'LOW' }, affected: [{ package: { ecosystem: 'AlmaLinux:8', name: 'tzdata' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
      // Another distribution and another AlmaLinux release are never matched.
      { id: 'RLSA-2023:1405', affected: [{ package: { ecosystem: 'Rocky Linux:8', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
      { id: 'ALSA-2023:9999', affected: [{ package: { ecosystem: 'AlmaLinux:9', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
    ];
    const found = await findingsOfBdbImage('alma', ALMA_8, records, 512);
    const got = found.map((f) => [f.vulnerabilityId, f.ecosystem, f.package.name, f.package.version, f.package.arch, f.severity, f.fixedInVersion ?? null, f.cvss?.score ?? null]);
    assert.deepEqual(got, [
      ['ALSA-2023:1405', 'AlmaLinux:8', 'openssl-libs', '1:1.1.1k-7.el8_6', 'x86_64', 'HIGH', '1:1.1.1k-9.el8_7', 7.5],
      ['ALSA-2024:0001', 'AlmaLinux:8', 'tzdata', '2023c-1.el8', 'noarch', 'LOW', null, null],
    ]);
  });

  it('finds Red Hat advisories of a UBI 8 image\'s main product streams only', async () => {
    const UBI_8 = 'NAME="Red Hat Enterprise Linux"\nVERSION="8.9 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.9"\n';
    const fix = (ecosystem: string, name: string, fixed?: string): OsvRecord['affected'] => [{
      package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, ...(fixed ? [{ fixed }] : [])] }],
    }];
    const records: OsvRecord[] = [
      // OSV's Red Hat records name the product stream; openssl-libs is matched through its source rpm.
      { id: 'RHSA-2023:1405', database_specific: { severity: 'HIGH' }, affected: fix('Red Hat:enterprise_linux:8::baseos', 'openssl', '1:1.1.1k-9.el8_7') },
      { id: 'RHSA-2024:0001', database_specific: { severity: 'LOW' }, affected: fix('Red Hat:enterprise_linux:8::appstream', 'tzdata', '2024a-1.el8') },
      { id: 'RHSA-2024:0002', database_specific: { severity: 'LOW' }, affected: fix('Red Hat:enterprise_linux:8::crb', 'bash', '4.4.20-5.el8') },
      // An extended-support stream, another release and a prefix lookalike are never matched.
      { id: 'RHSA-EUS', affected: fix('Red Hat:rhel_eus:8.6::baseos', 'openssl') },
      { id: 'RHSA-9', affected: fix('Red Hat:enterprise_linux:9::baseos', 'openssl') },
      { id: 'RHSA-80', affected: fix('Red Hat:enterprise_linux:80::baseos', 'openssl') },
    ];
    const found = await findingsOfBdbImage('ubi', UBI_8, records, 4096);
    const got = found.map((f) => [f.vulnerabilityId, f.ecosystem, f.package.name, f.fixedInVersion ?? null]).sort();
    assert.deepEqual(got, [
      ['RHSA-2023:1405', 'Red Hat:enterprise_linux:8::baseos', 'openssl-libs', '1:1.1.1k-9.el8_7'],
      ['RHSA-2024:0001', 'Red Hat:enterprise_linux:8::appstream', 'tzdata', '2024a-1.el8'],
      ['RHSA-2024:0002', 'Red Hat:enterprise_linux:8::crb', 'bash', '4.4.20-5.el8'],
    ]);
  });
});
