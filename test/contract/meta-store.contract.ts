/**
 * The behaviour every {@link MetaStore} must show. Each implementation's test file calls
 * {@link metaStoreContract} with a factory that opens a fresh, empty store.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MetaStore, PutManifestInput } from '../../src/core/ports/meta-store.js';
import { collect, digestOf, manifest, OCI_INDEX, pushImage, rejectsWith, signal, ACCOUNT, k } from './meta-store-helpers.js';
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
        const first = await store.createRepository(k('library/alpine'), signal);
        assert.equal(first.created, true);
        assert.equal(first.repository.name, 'library/alpine');
        await sleep(3);
        const second = await store.createRepository(k('library/alpine'), signal);
        assert.equal(second.created, false);
        assert.equal(second.repository.createdAt.getTime(), first.repository.createdAt.getTime());
        assert.deepEqual(await store.getRepository(k('library/alpine'), signal), first.repository);
      });

      it('getRepository returns undefined for an unknown name', async () => {
        assert.equal(await store.getRepository(k('nope'), signal), undefined);
      });

      it('listRepositories returns names in byte order', async () => {
        for (const n of ['b', 'a/b', 'a', 'a-b', 'a_b', 'a.b', 'ab', 'a0']) await store.createRepository(k(n), signal);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { limit: 100 }, signal),
          ['a', 'a-b', 'a.b', 'a/b', 'a0', 'a_b', 'ab', 'b']);
      });

      it('listRepositories orders by UTF-8 bytes, not UTF-16 code units', async () => {
        // U+FFFD is one UTF-16 unit above the surrogates, but its UTF-8 bytes sort below U+1F600's.
        for (const n of ['z\u{1F600}', 'z\uFFFD', 'za']) await store.createRepository(k(n), signal);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { limit: 10 }, signal), ['za', 'z\uFFFD', 'z\u{1F600}']);
      });

      it('listRepositories pages strictly after `last`, at most `limit`, and limit 0 returns nothing', async () => {
        for (const n of ['a', 'b', 'c', 'd', 'e']) await store.createRepository(k(n), signal);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { limit: 2 }, signal), ['a', 'b']);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { last: 'b', limit: 2 }, signal), ['c', 'd']);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { last: 'd', limit: 2 }, signal), ['e']);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { last: 'e', limit: 2 }, signal), []);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { last: 'bb', limit: 10 }, signal), ['c', 'd', 'e']);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { last: '', limit: 1 }, signal), ['a']);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { limit: 0 }, signal), []);
        assert.deepEqual(await store.listRepositories(ACCOUNT, { last: 'a', limit: 0 }, signal), []);
      });

      it('deleteRepository returns false for an unknown repository and true once for an existing one', async () => {
        assert.equal(await store.deleteRepository(k('nope'), signal), false);
        await store.createRepository(k('r'), signal);
        assert.equal(await store.deleteRepository(k('r'), signal), true);
        assert.equal(await store.getRepository(k('r'), signal), undefined);
        assert.equal(await store.deleteRepository(k('r'), signal), false);
      });

      it('deleteRepository removes blob links, uploads, manifests and tags, and a recreated repository starts empty', async () => {
        const { digest, layer } = await image('r', 'one', { tag: 'latest' });
        await store.putManifest(manifest('r', 'index', { mediaType: OCI_INDEX, manifests: [digest] }), signal);
        await store.putManifest(manifest('r', 'sig', { subject: digest, artifactType: 'application/x-sig' }), signal);
        await store.createUpload({ id: 'u1', repository: k('r') }, signal);
        await image('other', 'two');

        assert.equal(await store.deleteRepository(k('r'), signal), true);
        await store.createRepository(k('r'), signal);
        assert.equal(await store.getBlobLink(k('r'), layer, signal), undefined);
        assert.equal(await store.getUpload(k('r'), 'u1', signal), undefined);
        assert.equal(await store.getManifest(k('r'), digest, signal), undefined);
        assert.equal(await store.resolveTag(k('r'), 'latest', signal), undefined);
        assert.deepEqual(await store.listTags(k('r'), { limit: 10 }, signal), []);
        assert.deepEqual(await store.listReferrers(k('r'), digest, undefined, signal), []);
        assert.deepEqual(await store.listStaleUploads(new Date(Date.now() + 60_000), signal), []);
        assert.deepEqual(new Set((await collect(store.listBlobReferences(signal))).map((r) => r.repository)), new Set([k('other')]));
        assert.equal((await collect(store.listLinkedBlobs(signal))).length, 2);
      });

      it('rejects with AbortError when the signal is already aborted', async () => {
        const ac = new AbortController();
        ac.abort();
        await assert.rejects(store.createRepository(k('r'), ac.signal), { name: 'AbortError' });
        assert.equal(await store.getRepository(k('r'), signal), undefined);
      });
    });

    describe('blob links', () => {
      it('linkBlob throws RepositoryNotFound for an unknown repository', async () => {
        await rejectsWith(store.linkBlob(k('nope'), digestOf('b'), 1, signal), 'RepositoryNotFound');
      });

      it('linkBlob is idempotent and getBlobLink returns the size only in the linking repository', async () => {
        await store.createRepository(k('r'), signal);
        await store.createRepository(k('s'), signal);
        const d = digestOf('b');
        await store.linkBlob(k('r'), d, 42, signal);
        await store.linkBlob(k('r'), d, 42, signal);
        assert.deepEqual(await store.getBlobLink(k('r'), d, signal), { size: 42 });
        assert.equal(await store.getBlobLink(k('s'), d, signal), undefined);
        assert.equal(await store.getBlobLink(k('nope'), d, signal), undefined);
        assert.deepEqual(await collect(store.listLinkedBlobs(signal)), [{ digest: d, size: 42 }]);
      });

      it('linkBlob with endUpload ends that session of the repository only, in the same call', async () => {
        await store.createRepository(k('r'), signal);
        await store.createRepository(k('s'), signal);
        await store.createUpload({ id: 'up-r', repository: k('r') }, signal);
        await store.createUpload({ id: 'up-s', repository: k('s') }, signal);
        const d = digestOf('b');
        await store.linkBlob(k('r'), d, 7, signal, { endUpload: 'up-r' });
        assert.equal(await store.getUpload(k('r'), 'up-r', signal), undefined);
        assert.deepEqual(await store.getBlobLink(k('r'), d, signal), { size: 7 });
        await store.linkBlob(k('r'), d, 7, signal, { endUpload: 'up-s' });
        assert.ok(await store.getUpload(k('s'), 'up-s', signal), 'a session of another repository is left alone');
      });

      it('unlinkBlob returns false when not linked and true once when linked', async () => {
        await store.createRepository(k('r'), signal);
        const d = digestOf('b');
        assert.equal(await store.unlinkBlob(k('r'), d, signal), false);
        assert.equal(await store.unlinkBlob(k('nope'), d, signal), false);
        await store.linkBlob(k('r'), d, 1, signal);
        assert.equal(await store.unlinkBlob(k('r'), d, signal), true);
        assert.equal(await store.getBlobLink(k('r'), d, signal), undefined);
        assert.equal(await store.unlinkBlob(k('r'), d, signal), false);
      });

      it('unlinkBlob throws BlobReferenced while a manifest references the blob, and succeeds after the manifest is deleted', async () => {
        const { digest, layer } = await image('r', 'one');
        await rejectsWith(store.unlinkBlob(k('r'), layer, signal), 'BlobReferenced');
        assert.deepEqual(await store.getBlobLink(k('r'), layer, signal), { size: 2000 });
        await store.deleteManifest(k('r'), digest, signal);
        assert.equal(await store.unlinkBlob(k('r'), layer, signal), true);
      });
    });

    manifestContract(() => store);
    ecrRepositoryContract(() => store);
    imageContract(() => store);

    describe('upload sessions', () => {
      it('createUpload throws RepositoryNotFound for an unknown repository', async () => {
        await rejectsWith(store.createUpload({ id: 'u', repository: k('nope') }, signal), 'RepositoryNotFound');
      });

      it('createUpload starts at size 0 and getUpload returns the same session', async () => {
        await store.createRepository(k('r'), signal);
        const u = await store.createUpload({ id: 'u1', repository: k('r') }, signal);
        assert.equal(u.id, 'u1');
        assert.equal(u.repository, k('r'));
        assert.equal(u.size, 0);
        assert.equal(u.updatedAt.getTime(), u.startedAt.getTime());
        assert.deepEqual(await store.getUpload(k('r'), 'u1', signal), u);
      });

      it('getUpload returns undefined for another repository or an unknown id', async () => {
        await store.createRepository(k('r'), signal);
        await store.createRepository(k('s'), signal);
        await store.createUpload({ id: 'u1', repository: k('r') }, signal);
        assert.equal(await store.getUpload(k('s'), 'u1', signal), undefined);
        assert.equal(await store.getUpload(k('nope'), 'u1', signal), undefined);
        assert.equal(await store.getUpload(k('r'), 'u2', signal), undefined);
      });

      it('advanceUpload moves the size when `expected` matches and throws UploadInvalid, changing nothing, when it does not', async () => {
        await store.createRepository(k('r'), signal);
        const u = await store.createUpload({ id: 'u1', repository: k('r') }, signal);
        await sleep(3);
        const moved = await store.advanceUpload(k('r'), 'u1', 0, 100, signal);
        assert.equal(moved.size, 100);
        assert.equal(moved.startedAt.getTime(), u.startedAt.getTime());
        assert.ok(moved.updatedAt.getTime() > u.updatedAt.getTime());
        assert.deepEqual(await store.getUpload(k('r'), 'u1', signal), moved);
        await rejectsWith(store.advanceUpload(k('r'), 'u1', 0, 50, signal), 'UploadInvalid');
        assert.equal((await store.getUpload(k('r'), 'u1', signal))?.size, 100);
        assert.equal((await store.advanceUpload(k('r'), 'u1', 100, 250, signal)).size, 250);
      });

      it('advanceUpload throws UploadNotFound for an unknown id or another repository', async () => {
        await store.createRepository(k('r'), signal);
        await store.createRepository(k('s'), signal);
        await store.createUpload({ id: 'u1', repository: k('r') }, signal);
        await rejectsWith(store.advanceUpload(k('r'), 'u2', 0, 1, signal), 'UploadNotFound');
        await rejectsWith(store.advanceUpload(k('s'), 'u1', 0, 1, signal), 'UploadNotFound');
        assert.equal((await store.getUpload(k('r'), 'u1', signal))?.size, 0);
      });

      it('deleteUpload removes the session once and leaves it alone when asked for another repository', async () => {
        await store.createRepository(k('r'), signal);
        await store.createRepository(k('s'), signal);
        await store.createUpload({ id: 'u1', repository: k('r') }, signal);
        assert.equal(await store.deleteUpload(k('s'), 'u1', signal), false);
        assert.ok(await store.getUpload(k('r'), 'u1', signal));
        assert.equal(await store.deleteUpload(k('r'), 'u1', signal), true);
        assert.equal(await store.getUpload(k('r'), 'u1', signal), undefined);
        assert.equal(await store.deleteUpload(k('r'), 'u1', signal), false);
      });

      it('listStaleUploads returns only sessions not advanced since `before`', async () => {
        await store.createRepository(k('r'), signal);
        await store.createUpload({ id: 'old', repository: k('r') }, signal);
        await store.createUpload({ id: 'revived', repository: k('r') }, signal);
        await sleep(5);
        const cutoff = new Date();
        await sleep(5);
        await store.createUpload({ id: 'new', repository: k('r') }, signal);
        await store.advanceUpload(k('r'), 'revived', 0, 10, signal);
        const stale = await store.listStaleUploads(cutoff, signal);
        assert.deepEqual(stale.map((u) => u.id), ['old']);
        assert.deepEqual(stale[0], await store.getUpload(k('r'), 'old', signal));
        assert.deepEqual(await store.listStaleUploads(new Date(0), signal), []);
      });
    });
  });
}
