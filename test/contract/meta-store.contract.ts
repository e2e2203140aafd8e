/**
 * The behaviour every {@link MetaStore} must show. Each implementation's test file calls
 * {@link metaStoreContract} with a factory that opens a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore, PutManifestInput } from '../../src/core/ports/meta-store.js';
import { collect, digestOf, manifest, OCI_INDEX, pushImage, rejectsWith, signal } from './meta-store-helpers.js';
import { ecrRepositoryContract } from './meta-store-ecr.contract.js';
import { imageContract } from './meta-store-images.contract.js';
import { manifestContract } from './meta-store-manifests.contract.js';

/** Registers the MetaStore contract tests for one implementation. */
export function metaStoreContract(name: string, open: () => Promise<MetaStore>): void {
  describe(`MetaStore contract: ${name}`, () => {
    let store: MetaStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const image = (repository: string, label: string, extra: Partial<PutManifestInput> = {}) =>
      pushImage(store, repository, label, extra);

    describe('repositories', () => {
      it('createRepository creates once, then reports created=false with the original createdAt', async () => {
        const first = await store.createRepository('library/alpine', signal);
        assert.equal(first.created, true);
        assert.equal(first.repository.name, 'library/alpine');
        await sleep(3);
        const second = await store.createRepository('library/alpine', signal);
        assert.equal(second.created, false);
        assert.equal(second.repository.createdAt.getTime(), first.repository.createdAt.getTime());
        assert.deepEqual(await store.getRepository('library/alpine', signal), first.repository);
      });

      it('getRepository returns undefined for an unknown name', async () => {
        assert.equal(await store.getRepository('nope', signal), undefined);
      });

      it('listRepositories returns names in byte order', async () => {
        for (const n of ['b', 'a/b', 'a', 'a-b', 'a_b', 'a.b', 'ab', 'a0']) await store.createRepository(n, signal);
        assert.deepEqual(await store.listRepositories({ limit: 100 }, signal),
          ['a', 'a-b', 'a.b', 'a/b', 'a0', 'a_b', 'ab', 'b']);
      });

      it('listRepositories orders by UTF-8 bytes, not UTF-16 code units', async () => {
        // U+FFFD is one UTF-16 unit above the surrogates, but its UTF-8 bytes sort below U+1F600's.
        for (const n of ['z\u{1F600}', 'z\uFFFD', 'za']) await store.createRepository(n, signal);
        assert.deepEqual(await store.listRepositories({ limit: 10 }, signal), ['za', 'z\uFFFD', 'z\u{1F600}']);
      });

      it('listRepositories pages strictly after `last`, at most `limit`, and limit 0 returns nothing', async () => {
        for (const n of ['a', 'b', 'c', 'd', 'e']) await store.createRepository(n, signal);
        assert.deepEqual(await store.listRepositories({ limit: 2 }, signal), ['a', 'b']);
        assert.deepEqual(await store.listRepositories({ last: 'b', limit: 2 }, signal), ['c', 'd']);
        assert.deepEqual(await store.listRepositories({ last: 'd', limit: 2 }, signal), ['e']);
        assert.deepEqual(await store.listRepositories({ last: 'e', limit: 2 }, signal), []);
        assert.deepEqual(await store.listRepositories({ last: 'bb', limit: 10 }, signal), ['c', 'd', 'e']);
        assert.deepEqual(await store.listRepositories({ last: '', limit: 1 }, signal), ['a']);
        assert.deepEqual(await store.listRepositories({ limit: 0 }, signal), []);
        assert.deepEqual(await store.listRepositories({ last: 'a', limit: 0 }, signal), []);
      });

      it('deleteRepository returns false for an unknown repository and true once for an existing one', async () => {
        assert.equal(await store.deleteRepository('nope', signal), false);
        await store.createRepository('r', signal);
        assert.equal(await store.deleteRepository('r', signal), true);
        assert.equal(await store.getRepository('r', signal), undefined);
        assert.equal(await store.deleteRepository('r', signal), false);
      });

      it('deleteRepository removes blob links, uploads, manifests and tags, and a recreated repository starts empty', async () => {
        const { digest, layer } = await image('r', 'one', { tag: 'latest' });
        await store.putManifest(manifest('r', 'index', { mediaType: OCI_INDEX, manifests: [digest] }), signal);
        await store.putManifest(manifest('r', 'sig', { subject: digest, artifactType: 'application/x-sig' }), signal);
        await store.createUpload({ id: 'u1', repository: 'r' }, signal);
        await image('other', 'two');

        assert.equal(await store.deleteRepository('r', signal), true);
        await store.createRepository('r', signal);
        assert.equal(await store.getBlobLink('r', layer, signal), undefined);
        assert.equal(await store.getUpload('r', 'u1', signal), undefined);
        assert.equal(await store.getManifest('r', digest, signal), undefined);
        assert.equal(await store.resolveTag('r', 'latest', signal), undefined);
        assert.deepEqual(await store.listTags('r', { limit: 10 }, signal), []);
        assert.deepEqual(await store.listReferrers('r', digest, undefined, signal), []);
        assert.deepEqual(await store.listStaleUploads(new Date(Date.now() + 60_000), signal), []);
        assert.deepEqual(new Set((await collect(store.listBlobReferences(signal))).map((r) => r.repository)), new Set(['other']));
        assert.equal((await collect(store.listLinkedBlobs(signal))).length, 2);
      });

      it('rejects with AbortError when the signal is already aborted', async () => {
        const ac = new AbortController();
        ac.abort();
        await assert.rejects(store.createRepository('r', ac.signal), { name: 'AbortError' });
        assert.equal(await store.getRepository('r', signal), undefined);
      });
    });

    describe('blob links', () => {
      it('linkBlob throws RepositoryNotFound for an unknown repository', async () => {
        await rejectsWith(store.linkBlob('nope', digestOf('b'), 1, signal), 'RepositoryNotFound');
      });

      it('linkBlob is idempotent and getBlobLink returns the size only in the linking repository', async () => {
        await store.createRepository('r', signal);
        await store.createRepository('s', signal);
        const d = digestOf('b');
        await store.linkBlob('r', d, 42, signal);
        await store.linkBlob('r', d, 42, signal);
        assert.deepEqual(await store.getBlobLink('r', d, signal), { size: 42 });
        assert.equal(await store.getBlobLink('s', d, signal), undefined);
        assert.equal(await store.getBlobLink('nope', d, signal), undefined);
        assert.deepEqual(await collect(store.listLinkedBlobs(signal)), [{ digest: d, size: 42 }]);
      });

      it('linkBlob with endUpload ends that session of the repository only, in the same call', async () => {
        await store.createRepository('r', signal);
        await store.createRepository('s', signal);
        await store.createUpload({ id: 'up-r', repository: 'r' }, signal);
        await store.createUpload({ id: 'up-s', repository: 's' }, signal);
        const d = digestOf('b');
        await store.linkBlob('r', d, 7, signal, { endUpload: 'up-r' });
        assert.equal(await store.getUpload('r', 'up-r', signal), undefined);
        assert.deepEqual(await store.getBlobLink('r', d, signal), { size: 7 });
        await store.linkBlob('r', d, 7, signal, { endUpload: 'up-s' });
        assert.ok(await store.getUpload('s', 'up-s', signal), 'a session of another repository is left alone');
      });

      it('unlinkBlob returns false when not linked and true once when linked', async () => {
        await store.createRepository('r', signal);
        const d = digestOf('b');
        assert.equal(await store.unlinkBlob('r', d, signal), false);
        assert.equal(await store.unlinkBlob('nope', d, signal), false);
        await store.linkBlob('r', d, 1, signal);
        assert.equal(await store.unlinkBlob('r', d, signal), true);
        assert.equal(await store.getBlobLink('r', d, signal), undefined);
        assert.equal(await store.unlinkBlob('r', d, signal), false);
      });

      it('unlinkBlob throws BlobReferenced while a manifest references the blob, and succeeds after the manifest is deleted', async () => {
        const { digest, layer } = await image('r', 'one');
        await rejectsWith(store.unlinkBlob('r', layer, signal), 'BlobReferenced');
        assert.deepEqual(await store.getBlobLink('r', layer, signal), { size: 2000 });
        await store.deleteManifest('r', digest, signal);
        assert.equal(await store.unlinkBlob('r', layer, signal), true);
      });
    });

    manifestContract(() => store);
    ecrRepositoryContract(() => store);
    imageContract(() => store);

    describe('upload sessions', () => {
      it('createUpload throws RepositoryNotFound for an unknown repository', async () => {
        await rejectsWith(store.createUpload({ id: 'u', repository: 'nope' }, signal), 'RepositoryNotFound');
      });

      it('createUpload starts at size 0 and getUpload returns the same session', async () => {
        await store.createRepository('r', signal);
        const u = await store.createUpload({ id: 'u1', repository: 'r' }, signal);
        assert.equal(u.id, 'u1');
        assert.equal(u.repository, 'r');
        assert.equal(u.size, 0);
        assert.equal(u.updatedAt.getTime(), u.startedAt.getTime());
        assert.deepEqual(await store.getUpload('r', 'u1', signal), u);
      });

      it('getUpload returns undefined for another repository or an unknown id', async () => {
        await store.createRepository('r', signal);
        await store.createRepository('s', signal);
        await store.createUpload({ id: 'u1', repository: 'r' }, signal);
        assert.equal(await store.getUpload('s', 'u1', signal), undefined);
        assert.equal(await store.getUpload('nope', 'u1', signal), undefined);
        assert.equal(await store.getUpload('r', 'u2', signal), undefined);
      });

      it('advanceUpload moves the size when `expected` matches and throws UploadInvalid, changing nothing, when it does not', async () => {
        await store.createRepository('r', signal);
        const u = await store.createUpload({ id: 'u1', repository: 'r' }, signal);
        await sleep(3);
        const moved = await store.advanceUpload('r', 'u1', 0, 100, signal);
        assert.equal(moved.size, 100);
        assert.equal(moved.startedAt.getTime(), u.startedAt.getTime());
        assert.ok(moved.updatedAt.getTime() > u.updatedAt.getTime());
        assert.deepEqual(await store.getUpload('r', 'u1', signal), moved);
        await rejectsWith(store.advanceUpload('r', 'u1', 0, 50, signal), 'UploadInvalid');
        assert.equal((await store.getUpload('r', 'u1', signal))?.size, 100);
        assert.equal((await store.advanceUpload('r', 'u1', 100, 250, signal)).size, 250);
      });

      it('advanceUpload throws UploadNotFound for an unknown id or another repository', async () => {
        await store.createRepository('r', signal);
        await store.createRepository('s', signal);
        await store.createUpload({ id: 'u1', repository: 'r' }, signal);
        await rejectsWith(store.advanceUpload('r', 'u2', 0, 1, signal), 'UploadNotFound');
        await rejectsWith(store.advanceUpload('s', 'u1', 0, 1, signal), 'UploadNotFound');
        assert.equal((await store.getUpload('r', 'u1', signal))?.size, 0);
      });

      it('deleteUpload removes the session once and leaves it alone when asked for another repository', async () => {
        await store.createRepository('r', signal);
        await store.createRepository('s', signal);
        await store.createUpload({ id: 'u1', repository: 'r' }, signal);
        assert.equal(await store.deleteUpload('s', 'u1', signal), false);
        assert.ok(await store.getUpload('r', 'u1', signal));
        assert.equal(await store.deleteUpload('r', 'u1', signal), true);
        assert.equal(await store.getUpload('r', 'u1', signal), undefined);
        assert.equal(await store.deleteUpload('r', 'u1', signal), false);
      });

      it('listStaleUploads returns only sessions not advanced since `before`', async () => {
        await store.createRepository('r', signal);
        await store.createUpload({ id: 'old', repository: 'r' }, signal);
        await store.createUpload({ id: 'revived', repository: 'r' }, signal);
        await sleep(5);
        const cutoff = new Date();
        await sleep(5);
        await store.createUpload({ id: 'new', repository: 'r' }, signal);
        await store.advanceUpload('r', 'revived', 0, 10, signal);
        const stale = await store.listStaleUploads(cutoff, signal);
        assert.deepEqual(stale.map((u) => u.id), ['old']);
        assert.deepEqual(stale[0], await store.getUpload('r', 'old', signal));
        assert.deepEqual(await store.listStaleUploads(new Date(0), signal), []);
      });
    });
  });
}
