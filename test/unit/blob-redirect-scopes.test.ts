/**
 * `storage.redirect` through the services over the encrypting store: BlobService.downloadUrl
 * presigns an AES256 repository's blob and never a KMS repository's; a cross-repository mount from
 * an AES256 repository into a KMS one is refused (so the client uploads, and the commit turns the
 * plain object into an envelope); after that the AES256 repository is served by berth.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { LocalEventBus } from '../../src/core/events.js';
import { repoKey } from '../../src/core/repo-key.js';
import { BlobService } from '../../src/core/services/blobs.js';
import { fsck, fsckFailed } from '../../src/core/services/fsck.js';
import { KmsCrypto } from '../../src/core/services/kms/kms-crypto.js';
import { KmsKeys } from '../../src/core/services/kms/keys.js';
import { RepositoryService } from '../../src/core/services/repositories.js';
import { UploadService } from '../../src/core/services/uploads.js';
import { DataKeyWrapping } from '../../src/crypto/blob/data-keys.js';
import { EncryptedBlobStore } from '../../src/crypto/blob/encrypted-blob-store.js';
import { MasterKeyring } from '../../src/crypto/keyring.js';
import { KeyringSealer } from '../../src/crypto/kms/sealer.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import { openSqliteKeyStore } from '../../src/storage/meta/sqlite/sqlite-key-store.js';
import { blobTest } from '../contract/blob-store.contract.js';

const signal = new AbortController().signal;
const ACCOUNT = '000000000000';
const plainRepo = repoKey(ACCOUNT, 'plain/app');
const kmsRepo = repoKey(ACCOUNT, 'kms/app');

class PresigningStore extends MemoryBlobStore {
  async presignedUrl(digest: Digest, expiresSeconds: number): Promise<string | undefined> {
    return `https://s3.example/b/${digest}?X-Amz-Expires=${expiresSeconds}`;
  }
  async stored(digest: Digest): Promise<Buffer> {
    return blobTest.readAll(await super.read(digest, undefined, signal));
  }
}

async function setup() {
  const keys = await openSqliteKeyStore({ path: ':memory:' });
  const keyring = new MasterKeyring(randomBytes(32));
  const kms = new KmsKeys(keys, new KeyringSealer(keyring), 'us-east-1');
  const inner = new PresigningStore();
  const blobs = new EncryptedBlobStore(inner, keys, new DataKeyWrapping(keys, keyring, { keys: kms, crypto: new KmsCrypto(kms) }), keyring, { plainServiceScope: true });
  const meta = new MemoryMetaStore();
  const events = new LocalEventBus();
  const repos = new RepositoryService(meta, events);
  const key = await kms.create(ACCOUNT, { spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', description: 'k', tags: [] }, signal);
  await meta.createRepository(plainRepo, signal);
  await meta.createRepository(kmsRepo, signal, { settings: { encryption: { encryptionType: 'KMS', kmsKey: key.arn } } });
  return {
    inner, keys, meta, blobs,
    uploads: new UploadService(meta, blobs, repos, events, { maxBlobBytes: 1e9 }),
    service: new BlobService(meta, blobs, repos, { redirect: true }),
    async close() {
      await blobs.close();
      await keys.close();
    },
  };
}

const isEnvelope = (b: Buffer) => b.subarray(0, 8).toString('latin1') === 'BRTHENC1';

describe('storage.redirect through the services (AES256 and KMS repositories)', () => {
  it('presigns the AES256 repository\'s blob and serves the KMS repository\'s itself', async () => {
    const s = await setup();
    try {
      const a = randomBytes(500);
      const k = randomBytes(600);
      const da = (await s.uploads.monolithic(plainRepo, blobTest.digestOf(a), Readable.from([a]), a.length, false, signal)).digest;
      const dk = (await s.uploads.monolithic(kmsRepo, blobTest.digestOf(k), Readable.from([k]), k.length, false, signal)).digest;
      const url = await s.service.downloadUrl(plainRepo, da, 300, signal);
      assert.equal(url?.url, `https://s3.example/b/${da}?X-Amz-Expires=300`);
      assert.equal(url?.size, 500);
      assert.equal(await s.service.downloadUrl(kmsRepo, dk, 300, signal), undefined);
      assert.ok(isEnvelope(await s.inner.stored(dk)));
      const opened = await s.service.open(kmsRepo, dk, undefined, signal);
      const parts: Buffer[] = [];
      if (opened.pipeTo) await opened.pipeTo(async (c) => { parts.push(Buffer.from(c)); });
      else for await (const c of opened.body!) parts.push(c as Buffer);
      assert.ok(Buffer.concat(parts).equals(k));
    } finally {
      await s.close();
    }
  });

  it('fsck in redirect mode counts AES256 plain objects as expected but lists a plain object a KMS repository\'s image references', async () => {
    const s = await setup();
    try {
      const a = randomBytes(300);
      const da = (await s.uploads.monolithic(plainRepo, blobTest.digestOf(a), Readable.from([a]), a.length, false, signal)).digest;
      // A plain object a KMS repository's image references (an older berth, or the upgrade race).
      const legacy = randomBytes(400);
      const dl = blobTest.digestOf(legacy);
      await s.inner.appendUpload('legacy', 0, Readable.from([legacy]), signal);
      await s.inner.commitUpload('legacy', dl, signal);
      await s.meta.linkBlob(kmsRepo, dl, legacy.length, signal);
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [{ digest: dl }] }));
      await s.meta.putManifest({ repository: kmsRepo, digest: blobTest.digestOf(body), mediaType: 'application/vnd.oci.image.manifest.v1+json', body, imageSize: legacy.length, blobs: [dl], manifests: [] }, signal);
      const report = await fsck(s.meta, s.blobs, signal);
      assert.equal(fsckFailed(report), false);
      assert.deepEqual(report.plaintext, [dl]);
      assert.equal(report.plainObjects, 1, `the AES256 blob ${da} is expected plaintext`);
    } finally {
      await s.close();
    }
  });

  it('refuses to mount an AES256 repository\'s blob into a KMS repository; the re-upload upgrades the object and the AES256 repository is then served by berth', async () => {
    const s = await setup();
    try {
      const bytes = randomBytes(800);
      const digest = (await s.uploads.monolithic(plainRepo, blobTest.digestOf(bytes), Readable.from([bytes]), bytes.length, false, signal)).digest;
      assert.ok(await s.service.downloadUrl(plainRepo, digest, 60, signal));
      assert.equal(await s.uploads.mount(kmsRepo, digest, plainRepo, false, signal), undefined, 'not mounted across encryption configurations');
      // What a client does next: an ordinary upload session (chunked, as docker does), then the commit.
      const session = await s.uploads.start(kmsRepo, false, signal);
      await s.uploads.append(kmsRepo, session.id, Readable.from([bytes.subarray(0, 300)]), {}, signal);
      await s.uploads.complete(kmsRepo, session.id, digest, Readable.from([bytes.subarray(300)]), {}, signal);
      assert.ok(isEnvelope(await s.inner.stored(digest)), 'no KMS blob left as a plain object');
      assert.equal(await s.service.downloadUrl(plainRepo, digest, 60, signal), undefined, 'no URL to an envelope');
      for (const repo of [plainRepo, kmsRepo]) {
        const opened = await s.service.open(repo, digest, undefined, signal);
        const parts: Buffer[] = [];
        if (opened.pipeTo) await opened.pipeTo(async (c) => { parts.push(Buffer.from(c)); });
        else for await (const c of opened.body!) parts.push(c as Buffer);
        assert.ok(Buffer.concat(parts).equals(bytes), `${repo} reads it`);
      }
    } finally {
      await s.close();
    }
  });
});
