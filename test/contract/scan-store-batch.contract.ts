/**
 * The re-evaluation part of the ScanStore contract (issue 10): `putScans`, `touchScans`,
 * `listCompleted`'s `evaluatedWith`, and findings stored by reference (scan-findings-codec.ts) read
 * back by another instance with cold caches. Run inside {@link scanStoreContract}'s describe.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Finding, Inventory, InstalledPackage } from '../../src/core/scanning.js';
import { digestOf, signal } from './meta-store-helpers.js';
import type { ScanStoreUnderTest } from './scan-store.contract.js';
import { A, finding, key, scan } from './scan-store-fixtures.js';

const libc: InstalledPackage = { type: 'deb', name: 'libc6', version: '2.36-9', path: 'var/lib/dpkg/status', arch: 'amd64', source: { name: 'glibc', version: '2.36-9' } };
const inventory: Inventory = { os: { id: 'debian', versionId: '12' }, packages: [libc, finding.package], notes: [] };
/** A second advisory, on a package the inventory lists, with CVSS and without dates. */
const second: Finding = {
  vulnerabilityId: 'CVE-2024-0002', aliases: [], summary: 'glibc', description: 'overflow', severity: 'CRITICAL',
  cvss: { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, source: 'nvd' },
  package: libc, references: [], ecosystem: 'Debian:12',
};
/** The same advisory on a package that no stored inventory lists (stored inline). */
const stray: Finding = { ...finding, package: { type: 'npm', name: 'left-pad', version: '1.0.0', path: 'app/package-lock.json' } };

/** Runs `read` on a second instance of the store (cold caches), closing it afterwards. */
export async function withTwin<T>(s: ScanStoreUnderTest, read: (t: ScanStoreUnderTest) => Promise<T>): Promise<T> {
  const t = await s.twin();
  try {
    return await read(t);
  } finally {
    await t.close();
  }
}

export function batchContract(open: () => Promise<ScanStoreUnderTest>): void {
  it('putScans writes several scans; findings (indexed into the inventory or inline) read back exactly from a cold instance', async () => {
    const s = await open();
    try {
      const withInv = key('web', 'with-inventory');
      const without = key('web', 'no-inventory');
      await s.putInventory(withInv.digest, inventory, signal);
      const records = [
        scan(withInv, { findings: [second, finding, stray], firstObserved: { 'CVE-2024-0001': 1, 'CVE-2024-0002': 2 }, evaluatedWith: { importId: 'imp-1', generation: 3 } }),
        scan(without, { findings: [finding, second] }),
      ];
      await s.putScans(records, signal);
      await s.putScans([], signal);
      assert.deepEqual(await s.getScan(withInv, signal), records[0]);
      await withTwin(s, async (t) => {
        assert.deepEqual(await t.getScan(withInv, signal), records[0]);
        assert.deepEqual(await t.getScan(without, signal), records[1]);
        const both = await t.getScans(A, 'web', [withInv.digest, without.digest], signal);
        assert.deepEqual(both.get(withInv.digest), records[0]);
        assert.deepEqual(both.get(without.digest), records[1]);
      });
      // A record listed twice: the later one wins, as it would with two putScan calls.
      await s.putScans([scan(without, { findings: [] }), scan(without, { findings: [stray], description: 'later' })], signal);
      assert.deepEqual(await withTwin(s, (t) => t.getScan(without, signal)), scan(without, { findings: [stray], description: 'later' }));
    } finally {
      await s.close();
    }
  });

  it('putScans is all or nothing; a failed batch does not leave this instance believing its advisories stored', async () => {
    const s = await open();
    try {
      const good = key('web', 'good');
      const bad = key('web', 'bad');
      await s.putInventory(good.digest, inventory, signal);
      // An invalid start time cannot be stored (NOT NULL integer column): the whole batch fails.
      await assert.rejects(s.putScans([scan(good, { findings: [second] }), scan(bad, { startedAt: new Date(Number.NaN) })], signal));
      assert.equal(await s.getScan(good, signal), undefined, 'nothing of the failed batch is stored');
      assert.equal(await s.getScan(bad, signal), undefined);
      // The same advisories again: they must now really be written (another instance has no cache).
      await s.putScans([scan(good, { findings: [second] })], signal);
      assert.deepEqual(await withTwin(s, (t) => t.getScan(good, signal)), scan(good, { findings: [second] }));
    } finally {
      await s.close();
    }
  });

  it('touchScans sets completion, source time, scan type and version of COMPLETE scans only, keeping findings', async () => {
    const s = await open();
    try {
      const done = key('web', 'done');
      const other = key('db', 'other');
      const pending = key('web', 'pending');
      await s.putScans([
        scan(done, { evaluatedWith: { importId: 'imp-1', generation: 1 } }),
        scan(other, { evaluatedWith: { importId: 'imp-1', generation: 1 } }),
        scan(pending, { status: 'IN_PROGRESS' }),
      ], signal);
      await s.touchScans([], signal);
      await s.touchScans([
        { key: done, scanType: 'ENHANCED', completedAt: new Date(9_000), vulnSourceUpdatedAt: new Date(8_000), evaluatedWith: { importId: 'imp-1', generation: 2 } },
        { key: pending, scanType: 'ENHANCED', completedAt: new Date(9_000) },
        { key: key('web', 'never-scanned'), scanType: 'BASIC', completedAt: new Date(9_000) },
        { key: other, scanType: 'BASIC', completedAt: new Date(9_500) },
      ], signal);
      const expected = scan(done, { scanType: 'ENHANCED', completedAt: new Date(9_000), vulnSourceUpdatedAt: new Date(8_000), evaluatedWith: { importId: 'imp-1', generation: 2 } });
      const { vulnSourceUpdatedAt: _v, ...otherExpected } = scan(other, { completedAt: new Date(9_500) });
      await withTwin(s, async (t) => {
        assert.deepEqual(await t.getScan(done, signal), expected);
        assert.deepEqual(await t.getScan(other, signal), otherExpected, 'an absent version or source time clears the stored one');
        assert.deepEqual(await t.getScan(pending, signal), scan(pending, { status: 'IN_PROGRESS' }), 'a scan not COMPLETE is left alone');
        assert.equal(await t.getScan(key('web', 'never-scanned'), signal), undefined, 'a missing scan is not created');
      });
    } finally {
      await s.close();
    }
  });

  it('listCompleted gives each scan the version its findings were matched against, when recorded', async () => {
    const s = await open();
    try {
      await s.putScans([
        scan(key('a', 'with'), { evaluatedWith: { importId: 'imp-9', generation: 12 } }),
        scan(key('a', 'without')),
      ], signal);
      const listed = await s.listCompleted(undefined, 10, signal);
      const byDigest = new Map(listed.map((c) => [c.digest, c]));
      assert.deepEqual(byDigest.get(digestOf('with')), { ...key('a', 'with'), evaluatedWith: { importId: 'imp-9', generation: 12 } });
      assert.deepEqual(byDigest.get(digestOf('without')), key('a', 'without'));
      const manual = key('a', 'manual');
      assert.equal(await s.recordManualScan(manual, new Date(1), new Date(0), signal), true);
      assert.equal(listed.length, 2);
      assert.equal((await s.getScan(manual, signal))?.evaluatedWith, undefined, 'a queued manual scan has no version');
    } finally {
      await s.close();
    }
  });
}
