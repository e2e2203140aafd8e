/**
 * The GcStore contract, run by every implementation beside its own MetaStore (gc-store-*.test.ts).
 * Links are made with the MetaStore, as pushes make them; "old" means created before `before`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/core/errors.js';
import type { GcStore } from '../../src/core/ports/gc-store.js';
import type { MetaStore } from '../../src/core/ports/meta-store.js';
import { digestOf, k, manifest, signal } from './meta-store-helpers.js';

export interface GcStoreFixture {
  meta: MetaStore;
  store: GcStore;
  close(): Promise<void>;
}

const later = () => new Date(Date.now() + 60_000);
const earlier = () => new Date(Date.now() - 60_000);

export function gcStoreContract(label: string, open: () => Promise<GcStoreFixture>): void {
  describe(`GcStore contract: ${label}`, () => {
    it('deletes old links no manifest references, in batches of at most `limit`; keeps referenced and young ones', async () => {
      const { meta, store, close } = await open();
      try {
        await meta.createRepository(k('r'), signal);
        await meta.createRepository(k('s'), signal);
        const used = digestOf('used');
        const loose = ['a', 'b', 'c'].map((x) => digestOf(`loose-${x}`));
        for (const d of [used, ...loose]) await meta.linkBlob(k('r'), d, 1, signal);
        // The same bytes linked but unreferenced in another repository: that link goes, r's stays.
        await meta.linkBlob(k('s'), used, 1, signal);
        await meta.putManifest(manifest(k('r'), 'm', { blobs: [used] }), signal);

        assert.equal(await store.countUnreferencedLinks(earlier(), signal), 0, 'young links are not counted');
        assert.equal(await store.deleteUnreferencedLinks(earlier(), 10, signal), 0);
        assert.equal(await store.countUnreferencedLinks(later(), signal), 4);
        assert.deepEqual(await store.liveDigests(later(), signal), new Set([used]));
        assert.deepEqual(await store.liveDigests(earlier(), signal), new Set([used, ...loose]));

        assert.equal(await store.deleteUnreferencedLinks(later(), 3, signal), 3);
        assert.equal(await store.deleteUnreferencedLinks(later(), 3, signal), 1);
        assert.equal(await store.deleteUnreferencedLinks(later(), 3, signal), 0);
        assert.deepEqual(await meta.getBlobLink(k('r'), used, signal), { size: 1 });
        assert.equal(await meta.getBlobLink(k('s'), used, signal), undefined);
        for (const d of loose) assert.equal(await meta.getBlobLink(k('r'), d, signal), undefined);
      } finally {
        await close();
      }
    });

    it('fences only unlinked digests; a fenced digest cannot be linked until unfenced; fencing twice is harmless', async () => {
      const { meta, store, close } = await open();
      try {
        await meta.createRepository(k('r'), signal);
        const free = digestOf('free');
        const linked = digestOf('linked');
        await meta.linkBlob(k('r'), linked, 6, signal);
        assert.deepEqual(await store.fence([free, linked], new Date(1000), signal), [free]);
        assert.deepEqual(await store.fence([free], new Date(2000), signal), [free]);
        assert.deepEqual(await store.fenced(signal), [free]);
        await assert.rejects(meta.linkBlob(k('r'), free, 4, signal), (e: unknown) => isBerthError(e) && e.code === 'Unavailable');
        await store.unfence([free], signal);
        assert.deepEqual(await store.fenced(signal), []);
        await meta.linkBlob(k('r'), free, 4, signal);
        assert.deepEqual(await store.fence([free], new Date(), signal), []);
        assert.deepEqual(await store.fence([], new Date(), signal), []);
      } finally {
        await close();
      }
    });

    it('fences and unfences more digests than one batch holds', async () => {
      const { meta, store, close } = await open();
      try {
        await meta.createRepository(k('r'), signal);
        const many = Array.from({ length: 1_203 }, (_, i) => digestOf(`many-${i}`));
        await meta.linkBlob(k('r'), many[700]!, 1, signal);
        const fenced = await store.fence(many, new Date(), signal);
        assert.equal(fenced.length, 1_202);
        assert.ok(!fenced.includes(many[700]!));
        assert.equal((await store.fenced(signal)).length, 1_202);
        await store.unfence(many, signal);
        assert.deepEqual(await store.fenced(signal), []);
      } finally {
        await close();
      }
    });
  });
}
