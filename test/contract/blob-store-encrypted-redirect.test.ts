/**
 * The encrypting store in `storage.redirect` mode (on a store that presigns): the BlobStore contract
 * holds; AES256 blobs are plain objects offered as presigned URLs; KMS blobs are envelopes never
 * presigned; a plain object a KMS repository then commits is upgraded to an envelope both scopes
 * read; a disabled key stops only its own repository; lost races and crashes mid-commit leave
 * every blob readable and no KMS blob in plaintext.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import type { EncryptionScope } from '../../src/core/ports/blob-encryption.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';
import type { KeyStore } from '../../src/core/ports/key-store.js';
import { KmsCrypto } from '../../src/core/services/kms/kms-crypto.js';
import { KmsKeys } from '../../src/core/services/kms/keys.js';
import { DataKeyWrapping } from '../../src/crypto/blob/data-keys.js';
import { EncryptedBlobStore } from '../../src/crypto/blob/encrypted-blob-store.js';
import { HEADER_BYTES, parseHeader } from '../../src/crypto/blob/segments.js';
import { KeyringSealer } from '../../src/crypto/kms/sealer.js';
import { MasterKeyring } from '../../src/crypto/keyring.js';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { openSqliteKeyStore } from '../../src/storage/meta/sqlite/sqlite-key-store.js';
import { blobStoreContract, blobTest } from './blob-store.contract.js';

const { never: signal, digestOf, body, readAll, isCode } = blobTest;
const AES256: EncryptionScope = { type: 'AES256' };
const ACCOUNT = '000000000000';

/** A memory store that presigns like the S3 store (and can be told to fail or race a commit). */
class PresigningStore extends MemoryBlobStore {
  /** Called before each commit; may throw (a crash) or commit something else first (a race). */
  beforeCommit?: (uploadId: string, digest: Digest) => Promise<void>;
  async presignedUrl(digest: Digest, expiresSeconds: number): Promise<string | undefined> {
    return `https://s3.example/b/${digest}?X-Amz-Expires=${expiresSeconds}`;
  }
  /** Called (once, then cleared) before a read of a committed blob: another process acting in between. */
  beforeRead?: (digest: Digest) => Promise<void>;
  override async read(digest: Digest, range: { start: number; end: number } | undefined, s: AbortSignal): Promise<Readable> {
    const hook = this.beforeRead;
    this.beforeRead = undefined;
    await hook?.(digest);
    return super.read(digest, range, s);
  }
  override async commitUpload(uploadId: string, digest: Digest, s: AbortSignal, replace?: boolean): Promise<void> {
    await this.beforeCommit?.(uploadId, digest);
    return super.commitUpload(uploadId, digest, s, replace);
  }
  /** The stored bytes (ciphertext for an envelope). */
  async raw(digest: Digest): Promise<Buffer> {
    return readAll(await MemoryBlobStore.prototype.read.call(this, digest, undefined, signal));
  }
}

interface Setup {
  inner: PresigningStore;
  store: EncryptedBlobStore;
  keys: KeyStore;
  kms: KmsKeys;
  /** Another store over the same objects and keys (another process: nothing cached). */
  fresh(): EncryptedBlobStore;
  /** A KMS scope on a fresh key, and a way to disable / enable it. */
  kmsScope(): Promise<{ scope: EncryptionScope; setEnabled(on: boolean): Promise<void> }>;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const keys = await openSqliteKeyStore({ path: ':memory:' });
  const keyring = new MasterKeyring(randomBytes(32));
  const kms = new KmsKeys(keys, new KeyringSealer(keyring), 'us-east-1');
  const inner = new PresigningStore();
  const wrapping = new DataKeyWrapping(keys, keyring, { keys: kms, crypto: new KmsCrypto(kms) });
  const fresh = () => new EncryptedBlobStore(inner, keys, wrapping, keyring, { plainServiceScope: true });
  const store = fresh();
  return {
    inner, store, keys, kms, fresh,
    async kmsScope() {
      const key = await kms.create(ACCOUNT, { spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', description: 'repo key', tags: [] }, signal);
      return {
        scope: { type: 'KMS', keyArn: key.arn },
        setEnabled: async (on) => {
          await keys.updateKey(key.keyId, (k) => ({ ...k, state: on ? 'Enabled' : 'Disabled' }), signal);
        },
      };
    },
    async close() {
      await store.close();
      await keys.close();
    },
  };
}

/** Stages `bytes` (in one chunk) and commits them through `view`. */
async function push(view: { appendUpload: EncryptedBlobStore['appendUpload']; commitUpload: EncryptedBlobStore['commitUpload'] }, bytes: Buffer, id = randomUUID()): Promise<Digest> {
  const digest = digestOf(bytes);
  await view.appendUpload(id, 0, body(bytes), signal);
  await view.commitUpload(id, digest, signal);
  return digest;
}

async function readVia(view: { read(d: Digest, r: undefined, s: AbortSignal): Promise<Readable> }, digest: Digest): Promise<Buffer> {
  return readAll(await view.read(digest, undefined, signal));
}

/** Stages `bytes` under a fresh upload id (not committed) and returns the id. */
async function stageAgain(store: EncryptedBlobStore, bytes: Buffer): Promise<string> {
  const id = randomUUID();
  await store.appendUpload(id, 0, body(bytes), signal);
  return id;
}

async function collectPipe(view: { pipeTo?: EncryptedBlobStore['pipeTo'] }, digest: Digest): Promise<Buffer> {
  const parts: Buffer[] = [];
  await view.pipeTo!(digest, undefined, async (c) => { parts.push(Buffer.from(c)); }, signal);
  return Buffer.concat(parts);
}

const isEnvelope = (stored: Buffer) => stored.subarray(0, 8).toString('latin1') === 'BRTHENC1';

/** The scopes the stored envelope's data key is wrapped for. */
async function wrappedFor(s: Setup, digest: Digest): Promise<string[]> {
  const header = parseHeader((await s.inner.raw(digest)).subarray(0, HEADER_BYTES));
  assert.ok(header, 'stored as an envelope');
  return (await s.keys.getDataKeys(digest, header.keyId.toString('hex'), signal)).map((k) => k.scope).sort();
}

blobStoreContract('encrypted(presigning memory) in redirect mode', async () => {
  const s = await setup();
  // The contract closes the store it was given: close the key store with it.
  const store = s.fresh();
  const closeStore = store.close.bind(store);
  return Object.assign(store, { close: async () => { await closeStore(); await s.keys.close(); } });
});

describe('encrypting store with storage.redirect', () => {
  it('stages uploads in plaintext and commits an AES256 blob as a plain object, offered as a presigned URL', async () => {
    const s = await setup();
    try {
      const bytes = randomBytes(3000);
      const id = randomUUID();
      await s.store.appendUpload(id, 0, body(bytes.subarray(0, 1000)), signal);
      await s.store.appendUpload(id, 1000, body(bytes.subarray(1000)), signal);
      assert.ok((await readAll(await s.inner.readUpload(id, signal))).equals(bytes), 'staged bytes are the plaintext');
      const digest = digestOf(bytes);
      await s.store.forScope(AES256).commitUpload(id, digest, signal);
      assert.ok((await s.inner.raw(digest)).equals(bytes), 'the stored object is the plaintext itself');
      assert.equal(await s.store.isEncrypted(digest, signal), false);
      assert.equal(await s.keys.hasDataKeys(digest, signal), false, 'no data key: nothing to unwrap');
      assert.equal(await s.store.forScope(AES256).presignedUrl!(digest, 300, signal), `https://s3.example/b/${digest}?X-Amz-Expires=300`);
      assert.ok((await readVia(s.store.forScope(AES256), digest)).equals(bytes));
    } finally {
      await s.close();
    }
  });

  it('commits a KMS blob as an envelope holding no plaintext, readable through its key, never presigned', async () => {
    const s = await setup();
    try {
      const { scope } = await s.kmsScope();
      const bytes = randomBytes(70_000);
      const digest = await push(s.store.forScope(scope), bytes);
      const stored = await s.inner.raw(digest);
      assert.ok(isEnvelope(stored), 'stored as an envelope');
      assert.ok(!stored.includes(bytes.subarray(1000, 1064)), 'no plaintext in the stored object');
      assert.deepEqual(await wrappedFor(s, digest), [`kms:${scope.type === 'KMS' ? scope.keyArn : ''}`], 'wrapped for its key only');
      assert.ok((await readVia(s.store.forScope(scope), digest)).equals(bytes));
      assert.equal(await s.store.forScope(scope).presignedUrl!(digest, 300, signal), undefined, 'KMS view never presigns');
      assert.equal(await s.store.forScope(AES256).presignedUrl!(digest, 300, signal), undefined, 'an envelope is never presigned');
      assert.equal(await s.store.presignedUrl!(digest, 300, signal), undefined);
      assert.deepEqual([...(await blobTest.collect(s.inner.listUploads(signal)))], [], 'no staged copy left behind');
    } finally {
      await s.close();
    }
  });

  it('a plain AES256 object a KMS repository then commits becomes an envelope both read; disabling the key stops only the KMS repository', async () => {
    const s = await setup();
    try {
      const { scope, setEnabled } = await s.kmsScope();
      const bytes = randomBytes(5000);
      const digest = await push(s.store.forScope(AES256), bytes);
      assert.ok(typeof (await s.store.forScope(AES256).presignedUrl!(digest, 60, signal)) === 'string');
      await push(s.store.forScope(scope), bytes);
      assert.ok(isEnvelope(await s.inner.raw(digest)), 'upgraded in place');
      assert.deepEqual(await wrappedFor(s, digest), ['aes256', `kms:${(scope as { keyArn: string }).keyArn}`]);
      assert.equal(await s.store.forScope(AES256).presignedUrl!(digest, 60, signal), undefined, 'no longer redirected');
      assert.ok((await readVia(s.store.forScope(AES256), digest)).equals(bytes));
      assert.ok((await readVia(s.store.forScope(scope), digest)).equals(bytes));
      await setEnabled(false);
      await assert.rejects(s.store.forScope(scope).stat(digest, signal), isCode('KmsError'));
      await assert.rejects(readVia(s.store.forScope(scope), digest), isCode('KmsError'));
      assert.ok((await readVia(s.store.forScope(AES256), digest)).equals(bytes), 'the AES256 repository still reads it');
      await setEnabled(true);
      assert.ok((await readVia(s.store.forScope(scope), digest)).equals(bytes));
    } finally {
      await s.close();
    }
  });

  it('a KMS repository\'s blob pushed first: disabling its key refuses its reads and pushes; nothing is committed while refused', async () => {
    const s = await setup();
    try {
      const { scope, setEnabled } = await s.kmsScope();
      const bytes = randomBytes(2000);
      const digest = await push(s.store.forScope(scope), bytes);
      await setEnabled(false);
      await assert.rejects(readVia(s.store.forScope(scope), digest), isCode('KmsError'));
      const other = randomBytes(2000);
      const id = randomUUID();
      await s.store.appendUpload(id, 0, body(other), signal);
      await assert.rejects(s.store.forScope(scope).commitUpload(id, digestOf(other), signal), isCode('KmsError'));
      assert.equal(await s.inner.stat(digestOf(other), signal), undefined, 'nothing stored, no plaintext object');
      assert.equal(await s.store.uploadSize(id, signal), other.length, 'the upload stays for a retry');
      await setEnabled(true);
      await s.store.forScope(scope).commitUpload(id, digestOf(other), signal);
      assert.ok(isEnvelope(await s.inner.raw(digestOf(other))));
      assert.equal(await s.store.uploadSize(id, signal), undefined);
    } finally {
      await s.close();
    }
  });

  it('an AES256 push of content a KMS repository holds keeps the envelope and gets its own wrapping (served by berth)', async () => {
    const s = await setup();
    try {
      const { scope, setEnabled } = await s.kmsScope();
      const bytes = randomBytes(4000);
      const digest = await push(s.store.forScope(scope), bytes);
      await push(s.store.forScope(AES256), bytes);
      assert.ok(isEnvelope(await s.inner.raw(digest)));
      assert.equal(await s.store.forScope(AES256).presignedUrl!(digest, 60, signal), undefined);
      await setEnabled(false);
      assert.ok((await readVia(s.store.forScope(AES256), digest)).equals(bytes), 'its own service-key wrapping reads it');
      await assert.rejects(readVia(s.store.forScope(scope), digest), isCode('KmsError'));
    } finally {
      await s.close();
    }
  });

  it('a KMS commit that loses a race to an AES256 commit of the same content (plain object appears) still ends as an envelope both read', async () => {
    const s = await setup();
    try {
      const { scope } = await s.kmsScope();
      const bytes = randomBytes(6000);
      const digest = digestOf(bytes);
      let raced = false;
      s.inner.beforeCommit = async (uploadId) => {
        if (raced || !uploadId.startsWith('enc-')) return;
        raced = true;
        // Another node's AES256 push lands between the KMS commit's look and its commit.
        await push(s.store.forScope(AES256), bytes);
      };
      await push(s.store.forScope(scope), bytes);
      assert.ok(raced);
      assert.ok(isEnvelope(await s.inner.raw(digest)), 'the plain object was upgraded');
      assert.ok((await readVia(s.store.forScope(scope), digest)).equals(bytes));
      assert.ok((await readVia(s.fresh(), digest)).equals(bytes));
      assert.ok((await readVia(s.store.forScope(AES256), digest)).equals(bytes));
    } finally {
      await s.close();
    }
  });

  it('a KMS commit that dies before replacing a plain object leaves it plain and readable; the retry upgrades it', async () => {
    const s = await setup();
    try {
      const { scope } = await s.kmsScope();
      const bytes = randomBytes(3000);
      const digest = await push(s.store.forScope(AES256), bytes);
      s.inner.beforeCommit = async (uploadId) => {
        if (uploadId.startsWith('enc-')) throw new Error('process killed');
      };
      const id = randomUUID();
      await s.store.appendUpload(id, 0, body(bytes), signal);
      await assert.rejects(s.store.forScope(scope).commitUpload(id, digest, signal), /process killed/);
      s.inner.beforeCommit = undefined;
      assert.ok((await s.inner.raw(digest)).equals(bytes), 'the old object is untouched');
      // A fresh process (no cached heads): stale wrappings beside a plain object are dropped after its bytes check out.
      const fresh = s.fresh();
      assert.ok((await readVia(fresh.forScope(AES256), digest)).equals(bytes));
      assert.equal(await s.keys.hasDataKeys(digest, signal), false);
      await s.store.forScope(scope).commitUpload(id, digest, signal);
      assert.ok(isEnvelope(await s.inner.raw(digest)));
      assert.ok((await readVia(s.store.forScope(scope), digest)).equals(bytes));
      assert.ok((await readVia(fresh.forScope(AES256), digest)).equals(bytes), 'another process notices the replacement');
    } finally {
      await s.close();
    }
  });

  it('a plain object replaced by its envelope between the look at its head and the read is still served as its plaintext', async () => {
    const s = await setup();
    try {
      const { scope } = await s.kmsScope();
      const bytes = randomBytes(200_000);
      const digest = await push(s.store.forScope(AES256), bytes);
      const view = s.store.forScope(AES256);
      for (const how of ['read', 'pipeTo'] as const) {
        const other = how === 'read' ? bytes : randomBytes(150_000);
        const d: Digest = how === 'read' ? digest : await push(s.store.forScope(AES256), other);
        assert.deepEqual(await view.stat(d, signal), { size: other.length }, 'the head is looked at (plain) first');
        // Another node's KMS push of the same content upgrades the object right before the read.
        s.inner.beforeRead = async () => {
          await s.fresh().forScope(scope).commitUpload(await stageAgain(s.fresh(), other), d, signal);
          assert.ok(isEnvelope(await s.inner.raw(d)));
        };
        const got = how === 'read' ? await readVia(view, d) : await collectPipe(view, d);
        assert.ok(got.equals(other), `${how} gave the plaintext, not the envelope`);
      }
    } finally {
      await s.close();
    }
  });

  it('the same on the file store\'s buffer-reusing pipeTo: a stale plain head never sends envelope bytes (berth encrypt-existing while serving)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-stale-head-'));
    const keys = await openSqliteKeyStore({ path: ':memory:' });
    try {
      const keyring = new MasterKeyring(randomBytes(32));
      const fs = await FsBlobStore.open({ root: dir });
      let hook: (() => Promise<void>) | undefined;
      // The file store's pipeTo, with another process acting right before it opens the file.
      const inner: BlobStore = {
        appendUpload: (...a) => fs.appendUpload(...a), uploadSize: (...a) => fs.uploadSize(...a), readUpload: (...a) => fs.readUpload(...a),
        commitUpload: (...a) => fs.commitUpload(...a), deleteUpload: (...a) => fs.deleteUpload(...a), listUploads: (...a) => fs.listUploads(...a),
        stat: (...a) => fs.stat(...a), read: (...a) => fs.read(...a), delete: (...a) => fs.delete(...a), list: (...a) => fs.list(...a), close: () => fs.close(),
        pipeTo: async (...a) => {
          const h = hook;
          hook = undefined;
          await h?.();
          return fs.pipeTo(...a);
        },
      };
      const wrapping = new DataKeyWrapping(keys, keyring, undefined);
      const store = new EncryptedBlobStore(inner, keys, wrapping, keyring);
      // Several of the file store's 1 MiB read chunks: the stop must not leave a rejected write unobserved.
      const bytes = randomBytes(3 * 1024 * 1024 + 5);
      const id = randomUUID();
      await fs.appendUpload(id, 0, body(bytes), signal);
      const digest = digestOf(bytes);
      await fs.commitUpload(id, digest, signal);
      assert.equal(await store.isEncrypted(digest, signal), false, 'a plaintext blob (from before encryption)');
      hook = async () => {
        assert.equal(await new EncryptedBlobStore(fs, keys, wrapping, keyring).encryptInPlace(digest, signal), 'encrypted');
      };
      const got = await collectPipe(store, digest);
      assert.equal(hook, undefined, 'the replacement happened between the look and the read');
      assert.ok(got.equals(bytes), 'served the plaintext');
      await store.close();
    } finally {
      await keys.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('encrypt-existing for a KMS repository (encryptInPlace with its scope) wraps for the key and the service key', async () => {
    const s = await setup();
    try {
      const { scope } = await s.kmsScope();
      const bytes = randomBytes(1500);
      const digest = await push(s.store.forScope(AES256), bytes);
      assert.equal(await s.store.encryptInPlace(digest, signal, scope), 'encrypted');
      assert.equal(await s.store.encryptInPlace(digest, signal, scope), 'already');
      assert.deepEqual(await wrappedFor(s, digest), ['aes256', `kms:${(scope as { keyArn: string }).keyArn}`]);
      assert.ok((await readVia(s.store.forScope(scope), digest)).equals(bytes));
    } finally {
      await s.close();
    }
  });
});
