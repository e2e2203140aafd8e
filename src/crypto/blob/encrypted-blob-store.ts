import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parseDigest, type Digest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';
import { scopeName, type EncryptionScope, type ScopedBlobStore } from '../../core/ports/blob-encryption.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { Keyring } from '../../core/ports/keyring.js';
import type { DataKeyWrapping } from './data-keys.js';
import { commitAsEnvelope, type BlobHead, type EnvelopeCommitDeps } from './envelope-commit.js';
import { HEADER_BYTES, parseHeader, plainSize, SEGMENT_BYTES, SegmentOpener, segmentOffset } from './segments.js';
import { decrypting, plainUnlessEnvelope, readPrefix, StagedUploads } from './staging.js';

type Head = BlobHead;

interface Shared {
  inner: BlobStore;
  keys: KeyStore;
  wrapping: DataKeyWrapping;
  staged: StagedUploads;
  /** Headers of encrypted blobs (immutable while the blob exists; dropped on delete). */
  heads: Map<Digest, Head>;
  /**
   * `storage.redirect` on a store that presigns: uploads are staged in plaintext, blobs of the
   * service scope (`AES256`) are committed as plain objects (the object store's server-side
   * encryption covers them) and offered as presigned URLs; KMS scopes still get envelopes.
   */
  plainServiceScope: boolean;
}

/** Options of {@link EncryptedBlobStore}. */
export interface EncryptedBlobStoreOptions {
  /** See `Shared.plainServiceScope`; only takes effect when the inner store presigns. */
  plainServiceScope?: boolean;
}

const AES256: EncryptionScope = { type: 'AES256' };
/** Thrown through an inner pipeTo to stop a plain read that met an envelope header. */
const STALE_HEAD = new Error('stale plaintext head');
const MAX_CACHED_HEADS = 10_000;

/**
 * Encryption at rest for any {@link BlobStore}: every committed blob is an envelope (see
 * segments.ts) whose data key is kept only wrapped, per scope, in the key store. Digests and sizes
 * seen through this store are of the plaintext. Blobs committed before encryption existed (no
 * envelope header) are served as they are until `berth encrypt-existing` converts them.
 *
 * ```
 *  inner store      blobs/<digest>   [header: magic · segment size · data key id][segments…]
 *  key store        blob_data_keys   (digest, data key id, scope) → data key wrapped by the scope
 * ```
 *
 * One ciphertext per digest, its data key wrapped once per scope that stores it: identical content
 * pushed to repositories with different keys is stored once, and each repository reads it only
 * through its own key (see docs/encryption.md for why this is safe).
 *
 * `storage.redirect` (`plainServiceScope`, on a store that presigns): uploads are staged in
 * plaintext and blobs of the service scope (`AES256`) are committed as plain objects, encrypted at
 * rest by the object store's server-side encryption, so clients can be redirected to them. KMS
 * scopes still get envelopes (envelope-commit.ts turns plaintext into one, upgrading a plain
 * object another repository stored). {@link presignedUrl} is offered only for plain objects and
 * never through a KMS scope: an envelope — ciphertext — is never handed to a client.
 */
export class EncryptedBlobStore implements ScopedBlobStore {
  readonly #s: Shared;
  readonly #scope: EncryptionScope | undefined;
  /** Data keys a scoped view already opened (a view lives for one request). */
  readonly #opened = new Map<string, Buffer>();

  constructor(inner: BlobStore, keys: KeyStore, wrapping: DataKeyWrapping, keyring: Keyring, options?: EncryptedBlobStoreOptions);
  constructor(shared: Shared, scope: EncryptionScope);
  constructor(a: BlobStore | Shared, b: KeyStore | EncryptionScope, c?: DataKeyWrapping, d?: Keyring, e: EncryptedBlobStoreOptions = {}) {
    if (c && d) {
      const inner = a as BlobStore;
      const plainServiceScope = e.plainServiceScope === true && typeof inner.presignedUrl === 'function';
      this.#s = { inner, keys: b as KeyStore, wrapping: c, staged: new StagedUploads(inner, d), heads: new Map(), plainServiceScope };
      this.#scope = undefined;
    } else {
      this.#s = a as Shared;
      this.#scope = b as EncryptionScope;
    }
  }

  forScope(scope: EncryptionScope): BlobStore {
    return new EncryptedBlobStore(this.#s, scope);
  }

  /** Whether blobs of the service scope are kept as plain objects for presigned redirects. */
  get plainServiceScope(): boolean {
    return this.#s.plainServiceScope;
  }

  appendUpload(uploadId: string, offset: number, body: Readable, signal: AbortSignal): Promise<number> {
    // Redirect mode stages in plaintext (the object store's encryption covers staging); a later
    // chunk follows whatever the upload started as (an upload begun before the switch stays sealed).
    if (this.#s.plainServiceScope && offset === 0) return this.#s.inner.appendUpload(uploadId, 0, body, signal);
    return this.#s.staged.append(uploadId, offset, body, signal);
  }

  uploadSize(uploadId: string, signal: AbortSignal): Promise<number | undefined> {
    return this.#s.staged.size(uploadId, signal);
  }

  readUpload(uploadId: string, signal: AbortSignal, from?: number): Promise<Readable> {
    return this.#s.staged.read(uploadId, signal, from);
  }

  /**
   * Wraps the upload's data key under this view's scope (the service key when unscoped), records
   * it, then commits. When the digest was already stored (under another data key), the existing
   * blob is kept and its data key gets a wrapping under this scope instead.
   */
  async commitUpload(uploadId: string, digest: Digest, signal: AbortSignal, replace = false): Promise<void> {
    const { inner, keys, wrapping, staged } = this.#s;
    if (!(await staged.encrypted(uploadId, signal))) {
      // A plaintext-staged upload (redirect mode, or staged before encryption existed): a KMS
      // scope never gets a plain object; the service scope commits it as it is.
      if (this.#scope && this.#scope.type !== 'AES256') return commitAsEnvelope(this.#envelopeDeps(), this.#scope, { upload: uploadId }, digest, replace, signal);
      await inner.commitUpload(uploadId, digest, signal, replace);
      if (!this.#s.plainServiceScope) return;
      // The digest may already be an envelope (a KMS repository stored it first): the commit kept
      // it, and this scope needs its own wrapping of its data key.
      this.#s.heads.delete(digest);
      const head = await this.#head(digest, signal);
      if (head.kind === 'encrypted') await this.#dataKey(digest, head.keyIdHex, signal);
      return;
    }
    const { key, keyIdHex } = staged.keyOf(uploadId);
    const scope = this.#scope ?? AES256;
    // The wrapping is recorded before the blob appears, so a committed envelope always has one.
    await wrapping.put(await wrapping.wrap(scope, key, { digest, dataKeyId: keyIdHex }, signal), signal);
    await inner.commitUpload(uploadId, digest, signal, replace);
    this.#s.heads.delete(digest);
    const head = await this.#head(digest, signal);
    if (head.kind === 'encrypted' && head.keyIdHex === keyIdHex) return;
    await keys.deleteDataKeys(digest, keyIdHex, signal);
    if (head.kind === 'encrypted') await this.#dataKey(digest, head.keyIdHex, signal);
    // The digest was a plain object (an AES256 blob in redirect mode): a KMS scope upgrades it.
    else if (head.kind === 'plain' && scope.type !== 'AES256') await commitAsEnvelope(this.#envelopeDeps(), scope, 'object', digest, false, signal);
  }

  #envelopeDeps(): EnvelopeCommitDeps {
    const { inner, keys, wrapping, staged } = this.#s;
    return {
      inner, keys, wrapping, staged,
      head: (digest, signal) => {
        this.#s.heads.delete(digest);
        return this.#head(digest, signal);
      },
      ownWrapping: async (digest, keyIdHex, signal) => {
        await this.#dataKey(digest, keyIdHex, signal);
      },
    };
  }

  deleteUpload(uploadId: string, signal: AbortSignal): Promise<void> {
    return this.#s.inner.deleteUpload(uploadId, signal);
  }

  async *listUploads(signal: AbortSignal): AsyncIterable<{ uploadId: string; size: number; modifiedAt: Date }> {
    for await (const u of this.#s.inner.listUploads(signal)) {
      const size = await this.#s.staged.size(u.uploadId, signal).catch(() => u.size);
      yield { ...u, size: size ?? u.size };
    }
  }

  async stat(digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    const st = await this.#s.inner.stat(digest, signal);
    if (!st) return undefined;
    const head = await this.#head(digest, signal);
    if (head.kind !== 'encrypted') return st;
    // A repository's view opens the data key here, so an unusable key fails the request before
    // any response header is sent (the body is then streamed with the key already in hand).
    if (this.#scope) await this.#dataKey(digest, head.keyIdHex, signal);
    return { size: plainSize(st.size, head.segmentBytes) ?? approximate(st.size, head.segmentBytes) };
  }

  async read(digest: Digest, range: { start: number; end: number } | undefined, signal: AbortSignal, again = false): Promise<Readable> {
    const plan = await this.#plan(digest, range, signal);
    if (!plan) {
      const stream = await this.#s.inner.read(digest, range, signal);
      // A plain head may be stale by now (replaced by its envelope): the first bytes tell.
      if (again || (range?.start ?? 0) !== 0) return stream;
      const plain = await plainUnlessEnvelope(stream);
      if (plain) return plain;
      this.#s.heads.delete(digest);
      return this.read(digest, range, signal, true);
    }
    return decrypting(await this.#s.inner.read(digest, plan.stored, signal), plan.opener);
  }

  async pipeTo(digest: Digest, range: { start: number; end: number } | undefined, write: (chunk: Buffer) => Promise<void>, signal: AbortSignal, again = false): Promise<void> {
    const { inner } = this.#s;
    const plan = await this.#plan(digest, range, signal);
    if (!plan) {
      if (!inner.pipeTo) {
        for await (const chunk of await this.read(digest, range, signal)) await write(chunk as Buffer);
        return;
      }
      if (again || (range?.start ?? 0) !== 0) return inner.pipeTo(digest, range, write, signal);
      // As in read: an envelope's header in the first chunk means the head was stale; nothing has
      // been written yet, so read again (decrypting).
      let first = true;
      try {
        // Thrown synchronously (not a rejected promise): the inner store awaits each write's
        // promise only after its next read, and a rejection left unobserved that long would
        // count as unhandled.
        return await inner.pipeTo(digest, range, (chunk) => {
          if (first && ((first = false), parseHeader(chunk.subarray(0, HEADER_BYTES)))) throw STALE_HEAD;
          return write(chunk);
        }, signal);
      } catch (err) {
        if (err !== STALE_HEAD) throw err;
        this.#s.heads.delete(digest);
        return this.pipeTo(digest, range, write, signal, true);
      }
    }
    const { opener } = plan;
    if (inner.pipeTo) {
      // Decrypted pieces are fresh buffers, so they may all be in flight at once; the inner
      // store's reused chunk is consumed (copied or decrypted) before this callback returns.
      await inner.pipeTo(digest, plan.stored, async (chunk) => {
        await Promise.all(opener.push(chunk).map(write));
      }, signal);
    } else {
      for await (const chunk of await inner.read(digest, plan.stored, signal)) await Promise.all(opener.push(chunk as Buffer).map(write));
    }
    opener.end();
  }

  async delete(digest: Digest, signal: AbortSignal): Promise<void> {
    await this.#s.inner.delete(digest, signal);
    this.#s.heads.delete(digest);
    await this.#s.keys.deleteDataKeys(digest, undefined, signal);
  }

  async *list(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modifiedAt: Date }> {
    for await (const b of this.#s.inner.list(signal)) {
      const head = await this.#head(b.digest, signal);
      if (head.kind === 'missing') continue;
      yield head.kind === 'encrypted' ? { ...b, size: plainSize(b.size, head.segmentBytes) ?? approximate(b.size, head.segmentBytes) } : b;
    }
  }

  /**
   * {@inheritDoc BlobStore.presignedUrl} Offered only in redirect mode, to the service scope (or
   * unscoped callers), and only while the stored object for `digest` is plaintext: an envelope —
   * any KMS repository's blob — is never handed out, so a client can never receive ciphertext.
   */
  async presignedUrl(digest: Digest, expiresSeconds: number, signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<string | undefined> {
    const { inner, plainServiceScope } = this.#s;
    if (!plainServiceScope || !inner.presignedUrl || (this.#scope && this.#scope.type !== 'AES256')) return undefined;
    if ((await this.#head(digest, signal)).kind !== 'plain') return undefined;
    return inner.presignedUrl(digest, expiresSeconds, signal);
  }

  /** Whether a committed blob is stored as an envelope (`undefined` when it does not exist). For fsck and encrypt-existing. */
  async isEncrypted(digest: Digest, signal: AbortSignal): Promise<boolean | undefined> {
    const head = await this.#head(digest, signal);
    return head.kind === 'missing' ? undefined : head.kind === 'encrypted';
  }

  close(): Promise<void> {
    return this.#s.inner.close();
  }

  /** Where to read and how to decrypt `range` of an encrypted blob; `undefined` for a plaintext one. */
  async #plan(digest: Digest, range: { start: number; end: number } | undefined, signal: AbortSignal) {
    const { inner } = this.#s;
    const head = await this.#head(digest, signal);
    if (head.kind === 'missing') throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    if (head.kind === 'plain') return undefined;
    const st = await inner.stat(digest, signal);
    if (!st) throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    const seg = head.segmentBytes;
    const size = plainSize(st.size, seg);
    if (size === undefined) throw fail('Internal', `encrypted blob ${digest} has an impossible length (truncated); run berth fsck`, { digest });
    const key = await this.#dataKey(digest, head.keyIdHex, signal);
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (end >= size || start > end + 1) throw fail('Internal', `encrypted blob ${digest} is shorter than the range asked for`, { digest });
    const lastIndex = Math.floor(size / seg);
    const first = Math.floor(start / seg);
    const lastRead = Math.max(first, Math.floor(Math.max(end, 0) / seg));
    const stored = { start: segmentOffset(first, seg), end: Math.min(segmentOffset(lastRead + 1, seg), st.size) - 1 };
    const opener = new SegmentOpener(key, head.header, seg, first, lastIndex, start - first * seg, end - start + 1, digest).setLastPlainLength(size % seg);
    return { stored, opener };
  }

  async #head(digest: Digest, signal: AbortSignal, retry = true): Promise<Head> {
    const cached = this.#s.heads.get(digest);
    if (cached?.kind === 'plain') {
      // A plaintext blob stays cached only while its stored size is unchanged: `encrypt-existing`
      // (maybe in another process) replaces it by an envelope of the same digest, which is always
      // longer (32-byte header + 28 bytes per segment). One stat instead of a read and a key lookup.
      if ((await this.#s.inner.stat(digest, signal))?.size === cached.storedSize) return cached;
      this.#s.heads.delete(digest);
    } else if (cached) return cached;
    // Stat BEFORE reading: a plaintext head is cached with a size seen no later than the bytes
    // that showed it plaintext, so a replacement by an envelope after the read is noticed.
    const before = await this.#s.inner.stat(digest, signal);
    if (!before) return { kind: 'missing' };
    let bytes: Buffer;
    try {
      bytes = await readPrefix(await this.#s.inner.read(digest, undefined, signal), HEADER_BYTES);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'BlobNotFound') return { kind: 'missing' };
      throw err;
    }
    const parsed = parseHeader(bytes);
    if (!parsed) {
      const plain = await this.#plainOrDamaged(digest, retry, signal);
      if (plain.kind === 'plain') this.#cache(digest, { kind: 'plain', storedSize: before.size });
      return plain;
    }
    const head: Head = { kind: 'encrypted', keyIdHex: parsed.keyId.toString('hex'), header: parsed.header, segmentBytes: parsed.segmentBytes };
    this.#cache(digest, head);
    return head;
  }

  #cache(digest: Digest, head: Head): void {
    if (this.#s.heads.size >= MAX_CACHED_HEADS) this.#s.heads.clear();
    this.#s.heads.set(digest, head);
  }

  /**
   * A blob without an envelope header. If data keys are recorded for its digest it was stored as
   * an envelope and its header is damaged — unless an in-place encryption is in flight (it
   * records the key just before the atomic replace: look again shortly) or was killed between
   * those steps (the stored bytes then still hash to the digest: the stale keys are dropped).
   * Ciphertext never passes for plaintext.
   */
  async #plainOrDamaged(digest: Digest, retry: boolean, signal: AbortSignal): Promise<Head> {
    const { keys, inner } = this.#s;
    if (!(await keys.hasDataKeys(digest, signal))) return { kind: 'plain' };
    if (retry) {
      await new Promise((done) => setTimeout(done, 100));
      return this.#head(digest, signal, false);
    }
    const { algorithm } = parseDigest(digest);
    const hash = createHash(algorithm);
    const before = await inner.stat(digest, signal);
    for await (const chunk of await inner.read(digest, undefined, signal)) hash.update(chunk as Buffer);
    if (`${algorithm}:${hash.digest('hex')}` !== digest) throw fail('Internal', `encrypted blob ${digest} has a damaged header; run berth fsck`, { digest });
    // Replaced by its envelope while it was hashed (a slow in-place encryption): its keys are live.
    if ((await inner.stat(digest, signal))?.size !== before?.size) return this.#head(digest, signal, false);
    await keys.deleteDataKeys(digest, undefined, signal);
    return { kind: 'plain' };
  }

  /**
   * Encrypts a plaintext blob in place (`berth encrypt-existing`): streams it into an envelope
   * while checking its digest, records the data key under the service key, then atomically
   * replaces the plaintext. Readers see the old bytes or the new; safe while serving. Repositories
   * with a KMS key add their own wrapping on first read, or at once when `scope` names one.
   * Resolves with what it found.
   */
  async encryptInPlace(digest: Digest, signal: AbortSignal, scope?: EncryptionScope): Promise<'encrypted' | 'already' | 'missing'> {
    const { inner, staged, wrapping } = this.#s;
    const head = await this.#head(digest, signal);
    if (head.kind !== 'plain') return head.kind === 'missing' ? 'missing' : 'already';
    if (scope && scope.type !== 'AES256') {
      // For a KMS repository (`storage.redirect`): wrapped for its key and the service key at once.
      await commitAsEnvelope(this.#envelopeDeps(), scope, 'object', digest, false, signal);
      return 'encrypted';
    }
    const { id, key, keyIdHex } = await staged.encryptFrom(await inner.read(digest, undefined, signal), digest, signal);
    try {
      await wrapping.put(await wrapping.wrap(AES256, key, { digest, dataKeyId: keyIdHex }, signal), signal);
      await inner.commitUpload(id, digest, signal, true);
      this.#s.heads.delete(digest);
      return 'encrypted';
    } catch (err) {
      await inner.deleteUpload(id, AbortSignal.timeout(10_000)).catch(() => {});
      throw err;
    }
  }

  /**
   * The blob's data key through this view's scope. A scope without its own wrapping yet (the
   * blob was first stored under another scope) gets one, which needs its key usable: that is
   * what makes a disabled key stop its repositories even for shared content. Unscoped callers
   * (scanning, fsck) use whichever wrapping opens, the service key's first.
   */
  async #dataKey(digest: Digest, keyIdHex: string, signal: AbortSignal): Promise<Buffer> {
    const memo = this.#opened.get(`${digest}/${keyIdHex}`);
    if (memo) return memo;
    const key = await this.#openDataKey(digest, keyIdHex, signal);
    if (this.#scope) this.#opened.set(`${digest}/${keyIdHex}`, key);
    return key;
  }

  async #openDataKey(digest: Digest, keyIdHex: string, signal: AbortSignal): Promise<Buffer> {
    const { keys, wrapping } = this.#s;
    const entries = await keys.getDataKeys(digest, keyIdHex, signal);
    if (entries.length === 0) throw fail('Internal', `encrypted blob ${digest} has no recorded data key; run berth fsck`, { digest });
    if (this.#scope) {
      const own = entries.find((e) => e.scope === scopeName(this.#scope!));
      if (own) return wrapping.unwrap(own, signal);
    }
    const ordered = [...entries].sort((a, b) => Number(b.scope === 'aes256') - Number(a.scope === 'aes256'));
    let lastError: unknown;
    for (const entry of ordered) {
      try {
        const key = await wrapping.unwrap(entry, signal);
        if (this.#scope) await wrapping.put(await wrapping.wrap(this.#scope, key, { digest, dataKeyId: keyIdHex }, signal), signal);
        return key;
      } catch (err) {
        if (this.#scope && entry === ordered[ordered.length - 1]) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }
}

/** Best-effort plaintext size of a damaged envelope (listing must not fail; reads do). */
function approximate(stored: number, seg = SEGMENT_BYTES): number {
  return Math.max(0, Math.floor((stored - HEADER_BYTES) / (seg + 28)) * seg);
}
