import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import type { OsvRecord } from '../../src/core/ports/vuln-db.js';
import { matchInventory } from '../../src/scan/match/match.js';
import { importVulnDb, SqliteVulnDb } from '../../src/storage/vuln/sqlite-vuln-db.js';
import { inventoryOf } from '../fixtures/rpmdb.js';

const missing = spawnSync('objcopy', ['--version']).status === 0 ? undefined : 'objcopy (binutils) is not installed';
if (missing) console.log(`# skipping the cargo auditable tests: ${missing}`);

/** The crate list as `cargo auditable` (auditable-serde) writes it. */
const DEP_V0 = {
  packages: [
    { name: 'app', version: '0.1.0', source: 'local', root: true, dependencies: [1, 2, 3, 4] },
    { name: 'cc', version: '1.0.83', source: 'crates.io', kind: 'build' },
    { name: 'inhouse', version: '0.3.0', source: 'git' },
    { name: 'smallvec', version: '1.6.0', source: 'crates.io' },
    { name: 'time', version: '0.1.44', source: 'crates.io', kind: 'runtime' },
  ],
};
const EXPECTED = ['cargo:smallvec@1.6.0', 'cargo:time@0.1.44'];

const listed = (inv: Awaited<ReturnType<typeof inventoryOf>>) => inv.packages.map((p) => `${p.type}:${p.name}@${p.version}`).sort();

// The binaries are copies of this machine's /bin/true with sections added by binutils' objcopy, the
// way the linker lays out cargo auditable's non-allocated section: after the program, before the
// section table at the end of the file.
describe('Rust binaries built with cargo auditable', { skip: missing }, () => {
  let dir = '';
  const binary = (name: string, sections: [string, Buffer][]): Buffer => {
    const out = join(dir, name);
    copyFileSync('/bin/true', out);
    // One objcopy run per section: each run appends its section after the existing ones, in order.
    for (const [section, data] of sections) {
      writeFileSync(join(dir, `${name}${section}`), data);
      const r = spawnSync('objcopy', ['--add-section', `${section}=${join(dir, `${name}${section}`)}`, '--set-section-flags', `${section}=contents,readonly`, out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    return readFileSync(out);
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-auditable-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the crates.io runtime crates of the .dep-v0 section (not the root, build or git crates)', async () => {
    const bin = binary('app', [['.dep-v0', deflateSync(JSON.stringify(DEP_V0))]]);
    const dumped = join(dir, 'dumped');
    assert.equal(spawnSync('objcopy', ['--dump-section', `.dep-v0=${dumped}`, join(dir, 'app'), join(dir, 'app.copy')]).status, 0);
    assert.deepEqual(JSON.parse(inflateSync(readFileSync(dumped)).toString('utf8')), DEP_V0, 'binutils reads the section back');
    const inv = await inventoryOf([
      { name: 'usr/local/bin/app', mode: 0o755, data: bin },
      { name: 'usr/bin/true', mode: 0o755, data: readFileSync('/bin/true') },
      { name: 'opt/app.dat', data: bin }, // not executable: never probed
    ]);
    assert.deepEqual(listed(inv), EXPECTED);
    assert.ok(inv.packages.every((p) => p.path === 'usr/local/bin/app'));
  });

  it('finds a RustSec advisory for a crate of the binary', async () => {
    const records: OsvRecord[] = [
      { id: 'RUSTSEC-2021-0003', aliases: ['CVE-2021-25900'], severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }], affected: [{ package: { ecosystem: 'crates.io', name: 'smallvec' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0.6.3' }, { fixed: '0.6.14' }, { introduced: '1.0.0' }, { fixed: '1.6.1' }] }] }] },
      { id: 'RUSTSEC-2020-0071', affected: [{ package: { ecosystem: 'crates.io', name: 'time' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0.0.0-0' }, { fixed: '0.2.23' }] }] }] },
      { id: 'RUSTSEC-CC', affected: [{ package: { ecosystem: 'crates.io', name: 'cc' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }] },
    ];
    const path = join(dir, 'vulndb.sqlite');
    await importVulnDb(path, (async function* () { yield* records; })(), 'test');
    const db = await SqliteVulnDb.open(path);
    try {
      const inv = await inventoryOf([{ name: 'usr/local/bin/app', mode: 0o755, data: binary('app2', [['.dep-v0', deflateSync(JSON.stringify(DEP_V0))]]) }]);
      const got = (await matchInventory(inv, db, AbortSignal.timeout(10_000))).map((f) => [f.vulnerabilityId, f.package.name, f.package.version, f.severity, f.fixedInVersion ?? null]);
      assert.deepEqual(got, [
        ['RUSTSEC-2021-0003', 'smallvec', '1.6.0', 'CRITICAL', '1.6.1'],
        ['RUSTSEC-2020-0071', 'time', '0.1.44', 'UNDEFINED', '0.2.23'],
      ]);
    } finally {
      await db.close();
    }
  });

  it('reads a binary larger than the kept tail, and bounds what it keeps', async () => {
    const pad = Buffer.alloc(20 * 1024 * 1024, 0x90);
    const near = binary('near', [['.pad', pad], ['.dep-v0', deflateSync(JSON.stringify(DEP_V0))]]);
    assert.deepEqual(listed(await inventoryOf([{ name: 'app', mode: 0o755, data: near }])), EXPECTED);
    // A section 20 MiB before the end of the file is beyond the 16 MiB kept: not read (documented).
    const far = binary('far', [['.dep-v0', deflateSync(JSON.stringify(DEP_V0))], ['.pad', pad]]);
    assert.deepEqual(listed(await inventoryOf([{ name: 'app', mode: 0o755, data: far }])), []);
  });

  it('ignores a .dep-v0 that is a zlib bomb, not zlib, or not the expected JSON', async () => {
    // Valid JSON padded with 40 MiB of whitespace: over the 32 MiB inflate cap, so never inflated in full.
    const bomb = deflateSync(Buffer.concat([Buffer.from('{"packages":[{"name":"bomb","version":"1.0.0","source":"crates.io"}]'), Buffer.alloc(40 * 1024 * 1024, 0x20), Buffer.from('}')]));
    const inv = await inventoryOf([
      { name: 'bomb', mode: 0o755, data: binary('bomb', [['.dep-v0', bomb]]) },
      { name: 'garbage', mode: 0o755, data: binary('garbage', [['.dep-v0', Buffer.from('not zlib at all')]]) },
      { name: 'null', mode: 0o755, data: binary('null', [['.dep-v0', deflateSync('null')]]) },
      { name: 'odd', mode: 0o755, data: binary('odd', [['.dep-v0', deflateSync('{"packages":[null,7,{"name":1,"version":"1","source":"crates.io"}]}')]]) },
    ]);
    assert.deepEqual(listed(inv), []);
  });
});
