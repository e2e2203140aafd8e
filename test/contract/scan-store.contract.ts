/**
 * The ScanStore + InventoryStore contract, written from the SQLite store's behaviour and run by
 * every implementation (scan-store-*.test.ts). `open` returns a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import type { InventoryStore, ScanKey, ScanStore } from '../../src/core/ports/scan-store.js';
import { batchContract } from './scan-store-batch.contract.js';
import { reviseContract } from './scan-store-revise.contract.js';
import { A, B, finding, key, scan } from './scan-store-fixtures.js';
import type { Inventory } from '../../src/core/scanning.js';
import { digestOf, signal } from './meta-store-helpers.js';

export type ScanStoreUnderTest = ScanStore & InventoryStore & {
  close(): Promise<void>;
  /** Another store instance over the same database, with cold caches (as on another node). */
  twin(): Promise<ScanStoreUnderTest>;
};

export function scanStoreContract(label: string, open: () => Promise<ScanStoreUnderTest>): void {
  describe(`ScanStore contract: ${label}`, () => {
    it('registry configuration per account: absent, stored, replaced', async () => {
      const s = await open();
      try {
        assert.equal(await s.getRegistryConfig(A, signal), undefined);
        await s.putRegistryConfig(A, { scanType: 'ENHANCED', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }] }, signal);
        await s.putRegistryConfig(A, { scanType: 'BASIC', rules: [] }, signal);
        assert.deepEqual(await s.getRegistryConfig(A, signal), { scanType: 'BASIC', rules: [] });
        assert.equal(await s.getRegistryConfig(B, signal), undefined);
      } finally {
        await s.close();
      }
    });

    it('a scan round-trips with its dates; put replaces it; getScans returns only the asked, existing ones', async () => {
      const s = await open();
      try {
        const k1 = key('web', 'one');
        const k2 = key('web', 'two');
        await s.putScan(scan(k1), signal);
        assert.deepEqual(await s.getScan(k1, signal), scan(k1));
        const { completedAt: _c, vulnSourceUpdatedAt: _v, ...inProgress } = scan(k2, { status: 'IN_PROGRESS', findings: [], firstObserved: {} });
        await s.putScan(inProgress, signal);
        assert.deepEqual(await s.getScan(k2, signal), inProgress);
        await s.putScan(scan(k2), signal);
        assert.deepEqual(await s.getScan(k2, signal), scan(k2));
        assert.equal(await s.getScan(key('web', 'one', B), signal), undefined, 'another account\'s image');
        const got = await s.getScans(A, 'web', [k1.digest, digestOf('missing')], signal);
        assert.deepEqual([...got.keys()], [k1.digest]);
        assert.equal((await s.getScans(A, 'web', [], signal)).size, 0);
      } finally {
        await s.close();
      }
    });

    it('one manual scan per image per window, atomically; it creates an IN_PROGRESS record when there was none', async () => {
      const s = await open();
      try {
        const k = key('web', 'manual');
        const results = await Promise.all([1, 2, 3].map(() => s.recordManualScan(k, new Date(10_000), new Date(5_000), signal)));
        assert.deepEqual(results.sort(), [false, false, true]);
        assert.equal((await s.getScan(k, signal))?.status, 'IN_PROGRESS');
        assert.equal(await s.recordManualScan(k, new Date(20_000), new Date(9_999), signal), false, 'the one at 10 000 is inside the window');
        assert.equal(await s.recordManualScan(k, new Date(40_000), new Date(10_000), signal), true, 'the window has passed');
        // A completed scan keeps the manual-scan time.
        await s.putScan(scan(k), signal);
        assert.equal(await s.recordManualScan(k, new Date(41_000), new Date(39_000), signal), false);
      } finally {
        await s.close();
      }
    });

    it('deletes one image\'s scan or a whole repository\'s, within one account', async () => {
      const s = await open();
      try {
        for (const k of [key('web', 'a'), key('web', 'b'), key('db', 'c'), key('web', 'a', B)]) await s.putScan(scan(k), signal);
        await s.deleteScans(A, 'web', digestOf('a'), signal);
        assert.equal(await s.getScan(key('web', 'a'), signal), undefined);
        assert.ok(await s.getScan(key('web', 'b'), signal));
        await s.deleteScans(A, 'web', undefined, signal);
        assert.equal(await s.getScan(key('web', 'b'), signal), undefined);
        assert.ok(await s.getScan(key('db', 'c'), signal));
        assert.ok(await s.getScan(key('web', 'a', B), signal), 'the other account keeps its scan');
      } finally {
        await s.close();
      }
    });

    it('lists completed scans in (account, repository, digest) order, paged by the last key', async () => {
      const s = await open();
      try {
        const keys = [key('b', 'x'), key('a', 'y'), key('a', 'z'), key('a', 'y', B)];
        for (const k of keys) await s.putScan(scan(k), signal);
        await s.putScan(scan(key('a', 'pending'), { status: 'IN_PROGRESS' }), signal);
        const text = (k: ScanKey) => `${k.accountId} ${k.repository} ${k.digest}`;
        const ordered = [...keys].sort((p, q) => (text(p) < text(q) ? -1 : 1));
        const page1 = await s.listCompleted(undefined, 2, signal);
        const page2 = await s.listCompleted(page1[1], 2, signal);
        assert.deepEqual([...page1, ...page2], ordered);
        assert.deepEqual(await s.listCompleted(page2[1], 2, signal), []);
      } finally {
        await s.close();
      }
    });

    it('inventories by digest: absent, stored, and kept (the first one stored stays: findings index into it)', async () => {
      const s = await open();
      try {
        const d: Digest = digestOf('image');
        const inv: Inventory = { os: { id: 'debian', versionId: '12' }, packages: [finding.package], notes: [] };
        assert.equal(await s.getInventory(d, signal), undefined);
        await s.putInventory(d, inv, signal);
        await s.putInventory(d, { packages: [], notes: ['second'] }, signal);
        assert.deepEqual(await s.getInventory(d, signal), inv);
        const t = await s.twin();
        try {
          assert.deepEqual(await t.getInventory(d, signal), inv, 'another instance reads the first one too');
        } finally {
          await t.close();
        }
      } finally {
        await s.close();
      }
    });

    it('inventory lookup names: each package\'s own and source name once, read without the inventory', async () => {
      const s = await open();
      try {
        const d = digestOf('names'), same = digestOf('names-same');
        const inv: Inventory = { os: { id: 'debian', versionId: '12' }, notes: [], packages: [
          { type: 'deb', name: 'libssl3', version: '3.0.11-1', path: 'var/lib/dpkg/status', source: { name: 'openssl', version: '3.0.11-1' } },
          { type: 'deb', name: 'openssl', version: '3.0.11-1', path: 'var/lib/dpkg/status' },
          { type: 'pypi', name: 'Foo_Bar', version: '1.0', path: 'usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA' },
        ] };
        assert.equal(await s.getInventoryNames(d, signal), undefined, 'no inventory stored');
        await s.putInventory(d, inv, signal);
        await s.putInventory(same, structuredClone(inv), signal);
        await s.putInventory(d, { packages: [], notes: ['second'] }, signal);
        const t = await s.twin();
        try {
          for (const store of [s, t]) {
            assert.deepEqual([...(await store.getInventoryNames(d, signal))!].sort(), ['Foo_Bar', 'libssl3', 'openssl']);
            // Two digests of one text: both read back whole, from any instance, in either order.
            assert.deepEqual(await store.getInventory(same, signal), inv);
            assert.deepEqual(await store.getInventory(d, signal), inv);
          }
        } finally {
          await t.close();
        }
      } finally {
        await s.close();
      }
    });

    batchContract(open);
    reviseContract(open);
  });
}
