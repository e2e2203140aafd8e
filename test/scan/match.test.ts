import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OsvEvent, OsvRecord, VulnDb } from '../../src/core/ports/vuln-db.js';
import { packageKey, type Inventory } from '../../src/core/scanning.js';
import { matchInventory } from '../../src/scan/match/match.js';
import { evaluateAffected } from '../../src/scan/match/ranges.js';
import { compareSemver } from '../../src/scan/versions/index.js';

/** A VulnDb over a list, indexed the way the SQLite one is (ecosystem + normalised name). */
function listDb(records: OsvRecord[]): VulnDb {
  return {
    info: async () => ({ source: 'test', importedAt: new Date(0), records: records.length }),
    affecting: async (eco, names) => records.filter((r) => r.affected?.some((a) => a.package?.ecosystem === eco && names.map((n) => packageKey(eco, n)).includes(packageKey(eco, a.package.name)))),
    changedSince: async () => undefined,
    reload: async () => false,
    close: async () => {},
  };
}

const s = (): AbortSignal => AbortSignal.timeout(5000);

describe('OSV matching', () => {
  it('evaluates introduced/fixed/last_affected/limit events in version order', () => {
    const ev = (events: OsvEvent[], v: string) => evaluateAffected({ ranges: [{ type: 'SEMVER', events }] }, v, compareSemver);
    assert.deepEqual(ev([{ introduced: '1.0.0' }, { fixed: '1.2.0' }], '0.9.0'), { affected: false });
    assert.deepEqual(ev([{ introduced: '1.0.0' }, { fixed: '1.2.0' }], '1.0.0'), { affected: true, fixed: '1.2.0' });
    assert.deepEqual(ev([{ introduced: '1.0.0' }, { fixed: '1.2.0' }], '1.2.0'), { affected: false });
    // Two affected stretches: the fix reported is the one closing the stretch the version is in.
    const two: OsvEvent[] = [{ introduced: '0' }, { fixed: '1.0.5' }, { introduced: '2.0.0' }, { fixed: '2.0.3' }];
    assert.deepEqual(ev(two, '1.0.1'), { affected: true, fixed: '1.0.5' });
    assert.deepEqual(ev(two, '1.5.0'), { affected: false });
    assert.deepEqual(ev(two, '2.0.1'), { affected: true, fixed: '2.0.3' });
    assert.deepEqual(ev([{ introduced: '0' }, { last_affected: '3.1.0' }], '3.1.0'), { affected: true });
    assert.deepEqual(ev([{ introduced: '0' }, { last_affected: '3.1.0' }], '3.1.1'), { affected: false });
    assert.deepEqual(ev([{ introduced: '0' }, { limit: '2.0.0' }], '2.5.0'), { affected: false });
    assert.deepEqual(ev([{ introduced: '0' }, { limit: '2.0.0' }], '1.5.0'), { affected: true });
    assert.deepEqual(evaluateAffected({ versions: ['1.0.0'], ranges: [{ type: 'GIT', events: [{ introduced: 'abc' }] }] }, '1.0.0', compareSemver), { affected: true });
  });

  it('matches Alpine by minor release and origin, PyPI by normalised name; ignores withdrawn records and other releases', async () => {
    const inv: Inventory = {
      os: { id: 'alpine', versionId: '3.19.1' },
      notes: [],
      packages: [
        { type: 'apk', name: 'libcrypto3', version: '3.1.4-r0', path: 'lib/apk/db/installed', source: { name: 'openssl', version: '3.1.4-r0' } },
        { type: 'apk', name: 'musl', version: '1.2.4-r2', path: 'lib/apk/db/installed', source: { name: 'musl', version: '1.2.4-r2' } },
        { type: 'pypi', name: 'Jinja2', version: '3.1.2', path: 'usr/lib/python3/site-packages/Jinja2-3.1.2.dist-info/METADATA' },
      ],
    };
    const records: OsvRecord[] = [
      { id: 'ALPINE-CVE-1', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }], affected: [{ package: { ecosystem: 'Alpine:v3.19', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.1.4-r1' }] }] }] },
      { id: 'ALPINE-CVE-2', affected: [{ package: { ecosystem: 'Alpine:v3.18', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
      { id: 'ALPINE-CVE-3', affected: [{ package: { ecosystem: 'Alpine:v3.19', name: 'musl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.4_rc1-r0' }] }] }] },
      { id: 'WITHDRAWN-1', withdrawn: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'Alpine:v3.19', name: 'musl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] },
      { id: 'GHSA-jinja', database_specific: { severity: 'MODERATE' }, affected: [{ package: { ecosystem: 'PyPI', name: 'jinja2' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.1.3' }] }] }] },
    ];
    const got = (await matchInventory(inv, listDb(records), s())).map((f) => [f.vulnerabilityId, f.package.name, f.severity, f.fixedInVersion ?? null, f.cvss?.score ?? null]);
    assert.deepEqual(got, [
      ['ALPINE-CVE-1', 'libcrypto3', 'CRITICAL', '3.1.4-r1', 9.8],
      ['GHSA-jinja', 'Jinja2', 'MEDIUM', '3.1.3', null],
    ]);
  });

  it('rates CVSS v2-only records on the v2 scale (no CRITICAL), prefers v3 over v2, and ignores a broken v2 vector', async () => {
    const inv: Inventory = { notes: [], packages: [{ type: 'npm', name: 'left-pad', version: '1.0.0', path: 'app/package-lock.json' }] };
    const v2 = (id: string, score: string, extra: Partial<OsvRecord> = {}): OsvRecord => ({
      id, severity: [{ type: 'CVSS_V2', score }], affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, versions: ['1.0.0'] }], ...extra,
    });
    const records = [
      v2('V2-PARTIAL', 'AV:N/AC:L/Au:N/C:P/I:P/A:P'),
      v2('V2-COMPLETE', 'AV:N/AC:L/Au:N/C:C/I:C/A:C'),
      v2('V2-LOCAL', 'AV:L/AC:H/Au:S/C:P/I:N/A:N'),
      v2('V2-AND-V3', 'AV:N/AC:L/Au:N/C:C/I:C/A:C', { severity: [{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:C/I:C/A:C' }, { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N' }] }),
      v2('V2-BROKEN', 'AV:N/AC:L', { database_specific: { severity: 'MODERATE' } }),
    ];
    const got = (await matchInventory(inv, listDb(records), s())).map((f) => [f.vulnerabilityId, f.severity, f.cvss?.version ?? null, f.cvss?.score ?? null]);
    assert.deepEqual(got, [
      ['V2-COMPLETE', 'HIGH', '2.0', 10],
      ['V2-PARTIAL', 'HIGH', '2.0', 7.5],
      ['V2-BROKEN', 'MEDIUM', null, null],
      ['V2-AND-V3', 'LOW', '3.1', 3.7],
      ['V2-LOCAL', 'LOW', '2.0', 1],
    ]);
  });
});
