/**
 * Re-evaluation's read and write of the ScanStore contract (issue 10): `getRevisable` decodes only
 * the findings of a change set's vulnerabilities, `reviseScans` replaces just those and keeps the
 * rest as stored — the result read back by a cold instance equals writing the merged record whole.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ScanRevision } from '../../src/core/ports/scan-store.js';
import { compareFindings, severityCounts, type Finding, type Inventory, type InstalledPackage } from '../../src/core/scanning.js';
import { signal } from './meta-store-helpers.js';
import { withTwin } from './scan-store-batch.contract.js';
import type { ScanStoreUnderTest } from './scan-store.contract.js';
import { finding, key, scan } from './scan-store-fixtures.js';

const libc: InstalledPackage = { type: 'deb', name: 'libc6', version: '2.36-9', path: 'var/lib/dpkg/status', arch: 'amd64', source: { name: 'glibc', version: '2.36-9' } };
const zlib: InstalledPackage = { type: 'deb', name: 'zlib1g', version: '1.2.13', path: 'var/lib/dpkg/status' };
const inventory: Inventory = { os: { id: 'debian', versionId: '12' }, packages: [libc, finding.package, zlib], notes: [] };
const f = (id: string, pkg: InstalledPackage, severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({
  vulnerabilityId: id, aliases: [], summary: `${id} summary`, description: `${id} details`, severity, package: pkg, references: [], ecosystem: 'Debian:12', ...extra,
});
/** Stored: four findings of three vulnerabilities, one on a package no inventory lists (inline). */
const stray: InstalledPackage = { type: 'npm', name: 'left-pad', version: '1.0.0', path: 'app/package-lock.json' };
const stored = [f('CVE-1', libc, 'CRITICAL'), finding, f('CVE-3', zlib, 'LOW'), f('CVE-3', stray, 'LOW')].sort(compareFindings);

export function reviseContract(open: () => Promise<ScanStoreUnderTest>): void {
  it('getRevisable reads only the changed vulnerabilities\' findings and all severity counts; reviseScans replaces just those', async () => {
    const s = await open();
    try {
      const k = key('web', 'revised');
      await s.putInventory(k.digest, inventory, signal);
      await s.putScans([scan(k, { findings: stored, firstObserved: { 'CVE-1': 10, 'CVE-2024-0001': 20, 'CVE-3': 30 }, evaluatedWith: { importId: 'i', generation: 1 } })], signal);
      const ids = new Set(['CVE-3', 'CVE-NEW', 'CVE-1']);
      const read = await s.getRevisable(k, ids, signal);
      assert.deepEqual(read, { changed: stored.filter((x) => ids.has(x.vulnerabilityId)), counts: severityCounts(stored) });
      // Now: CVE-1 is gone, CVE-3 is rated higher on zlib only (a fix named), CVE-NEW appears.
      const fresh = [f('CVE-3', zlib, 'HIGH', { fixedInVersion: '1.2.14' }), f('CVE-NEW', libc, 'MEDIUM', { cvss: { version: '3.1', vector: 'CVSS:3.1/AV:N', score: 5, source: 'nvd' } })].sort(compareFindings);
      const revision: ScanRevision = {
        key: k, ids, fresh, description: 'revised', scanType: 'ENHANCED', completedAt: new Date(9_000), vulnSourceUpdatedAt: new Date(8_000), evaluatedWith: { importId: 'i', generation: 2 },
      };
      const merged = [...stored.filter((x) => !ids.has(x.vulnerabilityId)), ...fresh].sort(compareFindings);
      assert.deepEqual(await s.reviseScans([revision], signal), [severityCounts(merged)]);
      const expected = scan(k, {
        findings: merged, description: 'revised', scanType: 'ENHANCED', completedAt: new Date(9_000), vulnSourceUpdatedAt: new Date(8_000),
        evaluatedWith: { importId: 'i', generation: 2 }, firstObserved: { 'CVE-2024-0001': 20, 'CVE-3': 30, 'CVE-NEW': 9_000 },
      });
      assert.deepEqual(await s.getScan(k, signal), expected);
      assert.deepEqual(await withTwin(s, (cold) => cold.getScan(k, signal)), expected, 'a cold instance reads the revised record');
      assert.deepEqual(await s.reviseScans([], signal), []);
    } finally {
      await s.close();
    }
  });

  it('scans not COMPLETE (or missing) are neither read nor revised', async () => {
    const s = await open();
    try {
      const pending = key('web', 'pending');
      await s.putScans([scan(pending, { status: 'IN_PROGRESS' })], signal);
      const ids = new Set([finding.vulnerabilityId]);
      assert.equal(await s.getRevisable(pending, ids, signal), undefined);
      assert.equal(await s.getRevisable(key('web', 'never'), ids, signal), undefined);
      const revision = (k: ScanRevision['key']): ScanRevision => ({ key: k, ids, fresh: [], description: 'x', scanType: 'BASIC', completedAt: new Date(9_000) });
      assert.deepEqual(await s.reviseScans([revision(pending), revision(key('web', 'never'))], signal), [undefined, undefined]);
      assert.deepEqual(await s.getScan(pending, signal), scan(pending, { status: 'IN_PROGRESS' }));
      assert.equal(await s.getScan(key('web', 'never'), signal), undefined);
    } finally {
      await s.close();
    }
  });
}
