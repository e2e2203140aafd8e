/**
 * `storage.redirect`: BlobService.downloadUrl hands out the store's presigned URL only when the
 * redirect is on, the store offers presigning (a wrapper that transforms bytes may not), and the
 * blob is linked to the repository. The encrypting store's own rules (plain objects of AES256
 * repositories only): test/unit/blob-redirect-scopes.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { isBerthError } from '../../src/core/errors.js';
import { LocalEventBus } from '../../src/core/events.js';
import { EMPTY_JSON_DIGEST } from '../../src/core/media-types.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';
import { repoKey } from '../../src/core/repo-key.js';
import { BlobService } from '../../src/core/services/blobs.js';
import { RepositoryService } from '../../src/core/services/repositories.js';
import { UploadService } from '../../src/core/services/uploads.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import { blobTest } from '../contract/blob-store.contract.js';

const signal = new AbortController().signal;
const repo = repoKey('000000000000', 'app');

/** A store that presigns (as the S3 store does), recording what it was asked. */
class PresigningStore extends MemoryBlobStore {
  readonly asked: { digest: Digest; expires: number }[] = [];
  async presignedUrl(digest: Digest, expiresSeconds: number): Promise<string | undefined> {
    this.asked.push({ digest, expires: expiresSeconds });
    return `https://s3.example/bucket/blobs/${digest}?X-Amz-Expires=${expiresSeconds}`;
  }
}

/** A wrapper transforming bytes (like the encrypting store): delegates everything but presigning. */
function wrapWithoutPresigning(inner: BlobStore): BlobStore {
  return {
    appendUpload: (...a) => inner.appendUpload(...a), uploadSize: (...a) => inner.uploadSize(...a), readUpload: (...a) => inner.readUpload(...a),
    commitUpload: (...a) => inner.commitUpload(...a), deleteUpload: (...a) => inner.deleteUpload(...a), listUploads: (...a) => inner.listUploads(...a),
    stat: (...a) => inner.stat(...a), read: (...a) => inner.read(...a), delete: (...a) => inner.delete(...a), list: (...a) => inner.list(...a), close: () => inner.close(),
  };
}

async function setup(blobs: BlobStore, redirect: boolean): Promise<{ service: BlobService; digest: Digest }> {
  const meta = new MemoryMetaStore();
  const events = new LocalEventBus();
  const repos = new RepositoryService(meta, events);
  const uploads = new UploadService(meta, blobs, repos, events, { maxBlobBytes: 1e9 });
  const bytes = randomBytes(100);
  const digest = blobTest.digestOf(bytes);
  await uploads.monolithic(repo, digest, Readable.from([bytes]), bytes.length, true, signal);
  return { service: new BlobService(meta, blobs, repos, { redirect }), digest };
}

describe('BlobService.downloadUrl (storage.redirect)', () => {
  it('returns the store\'s presigned URL for a linked blob when redirect is on', async () => {
    const store = new PresigningStore();
    const { service, digest } = await setup(store, true);
    const got = await service.downloadUrl(repo, digest, 300, signal);
    assert.equal(got?.url, `https://s3.example/bucket/blobs/${digest}?X-Amz-Expires=300`);
    assert.equal(got?.size, 100);
    assert.deepEqual(store.asked, [{ digest, expires: 300 }]);
  });

  it('returns nothing when redirect is off, even if the store could presign', async () => {
    const { service, digest } = await setup(new PresigningStore(), false);
    assert.equal(await service.downloadUrl(repo, digest, 300, signal), undefined);
  });

  it('returns nothing through a wrapper that does not expose presigning (its blobs are served by berth)', async () => {
    const { service, digest } = await setup(wrapWithoutPresigning(new PresigningStore()), true);
    assert.equal(await service.downloadUrl(repo, digest, 300, signal), undefined);
  });

  it('refuses a blob the repository does not have (BlobNotFound, no URL) and never redirects the built-in empty blob', async () => {
    const store = new PresigningStore();
    const { service } = await setup(store, true);
    await assert.rejects(service.downloadUrl(repo, blobTest.digestOf(Buffer.from('other')), 300, signal), (e) => isBerthError(e) && e.code === 'BlobNotFound');
    assert.equal(await service.downloadUrl(repo, EMPTY_JSON_DIGEST, 300, signal), undefined);
    assert.deepEqual(store.asked, []);
  });
});
