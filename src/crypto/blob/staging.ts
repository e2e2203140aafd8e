import { createHash, randomUUID } from 'node:crypto';
import { Readable, Transform, pipeline } from 'node:stream';
import { parseDigest, type Digest } from '../../core/digest.js';
import { fail, isBerthError } from '../../core/errors.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { Keyring } from '../../core/ports/keyring.js';
import {
  buildHeader, HEADER_BYTES, OVERHEAD, openSegment, parseHeader, plainSize, sealSegment, SEGMENT_BYTES, SegmentOpener, SegmentSealer, segmentOffset,
} from './segments.js';

/**
 * Staged uploads, encrypted as they arrive, in the same envelope format a committed blob has (so
 * commit is still a rename). The upload's data key and id are derived from the master key and the
 * (random, secret) upload id, so any node can continue an upload without storing a key; once
 * committed, the data key is kept only wrapped under the repository's scope.
 *
 * An append at a plaintext offset inside a segment re-seals that segment with the new bytes: the
 * segment is read back, and if the append fails the original segment is written back, so a
 * failed or aborted chunk leaves the upload exactly as before. (A process killed in the middle of
 * such a chunk can lose the partial segment; the client then restarts the upload, which Docker
 * clients do on any upload error.)
 */
export class StagedUploads {
  constructor(private readonly inner: BlobStore, private readonly keyring: Keyring) {}

  /** The data key, header and hex id of an upload's envelope. */
  keyOf(uploadId: string): { key: Buffer; header: Buffer; keyIdHex: string } {
    const key = Buffer.from(this.keyring.mac('blob-staging-key', Buffer.from(uploadId, 'utf8')));
    const keyId = Buffer.from(this.keyring.mac('blob-staging-id', Buffer.from(uploadId, 'utf8'))).subarray(0, 16);
    return { key, header: buildHeader(keyId), keyIdHex: keyId.toString('hex') };
  }

  /** Whether the staged bytes are this upload's envelope (false for plaintext staged before encryption). */
  async encrypted(uploadId: string, signal: AbortSignal): Promise<boolean> {
    const head = this.inner.uploadHead
      ? await this.inner.uploadHead(uploadId, HEADER_BYTES, signal)
      : await readPrefix(await this.inner.readUpload(uploadId, signal), HEADER_BYTES);
    return head.equals(this.keyOf(uploadId).header);
  }

  async append(uploadId: string, offset: number, body: Readable, signal: AbortSignal): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw fail('UploadInvalid', 'upload offset must be a non-negative integer', { offset });
    signal.throwIfAborted();
    const { key, header } = this.keyOf(uploadId);
    if (offset === 0) {
      const sealed = pipeline(body, new SegmentSealer(key, header, 0, undefined, true), () => {});
      return this.#plain(await this.inner.appendUpload(uploadId, 0, sealed, signal));
    }
    const stored = await this.inner.uploadSize(uploadId, signal);
    if (stored === undefined) throw fail('UploadNotFound', 'upload unknown', { uploadId, offset });
    if (!(await this.encrypted(uploadId, signal))) return this.inner.appendUpload(uploadId, offset, body, signal);
    const index = Math.floor(offset / SEGMENT_BYTES);
    const keep = offset - index * SEGMENT_BYTES;
    const start = segmentOffset(index);
    let prefix: Buffer = Buffer.alloc(0);
    // What the upload must look like if this append fails: exactly `offset` bytes.
    let restore: Buffer;
    if (keep === 0) {
      // Nothing of segment `index` is kept (whatever an interrupted write left there is cut).
      if (stored < start) throw fail('UploadInvalid', 'offset is beyond the staged size', { uploadId, offset });
      restore = sealSegment(key, header, index, true, prefix);
    } else {
      const length = Math.min(SEGMENT_BYTES + OVERHEAD, stored - start);
      if (length < OVERHEAD + keep) throw fail('UploadInvalid', 'offset is beyond the staged size', { uploadId, offset });
      const old = await readPrefix(await this.inner.readUpload(uploadId, signal, start), length);
      const last = start + length === stored;
      const plain = openSegment(key, header, index, last, old, `upload ${uploadId}`);
      if (plain.length < keep) throw fail('UploadInvalid', 'offset is beyond the staged size', { uploadId, offset });
      prefix = plain.subarray(0, keep);
      restore = last && plain.length === keep ? old : sealSegment(key, header, index, true, prefix);
    }
    const sealed = pipeline(body, new SegmentSealer(key, header, index, prefix), () => {});
    try {
      return this.#plain(await this.inner.appendUpload(uploadId, start, sealed, signal));
    } catch (err) {
      if (!(isBerthError(err) && (err.code === 'UploadInvalid' || err.code === 'UploadNotFound'))) {
        await this.inner.appendUpload(uploadId, start, Readable.from([restore]), AbortSignal.timeout(30_000)).catch(() => {});
      }
      throw err;
    }
  }

  /**
   * Streams plaintext `source` into a new staged envelope (id `enc-…`), checking on the way that
   * it hashes to `digest` — the one way a plaintext blob or plaintext-staged upload becomes an
   * envelope (`berth encrypt-existing`, a KMS repository's commit with `storage.redirect`).
   * Resolves with the staging id and its data key; on any failure the staged envelope is removed.
   */
  async encryptFrom(source: Readable, digest: Digest, signal: AbortSignal): Promise<{ id: string; key: Buffer; keyIdHex: string }> {
    const id = `enc-${randomUUID()}`;
    const { algorithm } = parseDigest(digest);
    const hash = createHash(algorithm);
    const hashing = new Transform({ transform(chunk: Buffer, _e, done) { hash.update(chunk); done(null, chunk); } });
    try {
      await this.append(id, 0, pipeline(source, hashing, () => {}), signal);
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== digest) throw fail('Internal', `blob ${digest} hashes to ${actual}; not encrypting it (run berth fsck)`, { digest });
    } catch (err) {
      source.destroy();
      await this.inner.deleteUpload(id, AbortSignal.timeout(10_000)).catch(() => {});
      throw err;
    }
    const { key, keyIdHex } = this.keyOf(id);
    return { id, key, keyIdHex };
  }

  /** Plaintext size of a staged upload, or `undefined`. */
  async size(uploadId: string, signal: AbortSignal): Promise<number | undefined> {
    const stored = await this.inner.uploadSize(uploadId, signal);
    if (stored === undefined || !(await this.encrypted(uploadId, signal))) return stored;
    return this.#plain(stored);
  }

  /** Decrypting stream of a staged upload (plaintext uploads pass through). */
  async read(uploadId: string, signal: AbortSignal, from = 0): Promise<Readable> {
    const stored = await this.inner.uploadSize(uploadId, signal);
    if (stored === undefined || !(await this.encrypted(uploadId, signal))) return this.inner.readUpload(uploadId, signal, from);
    const { key, header } = this.keyOf(uploadId);
    const size = this.#plain(stored);
    const lastIndex = Math.floor(size / SEGMENT_BYTES);
    const first = Math.min(Math.floor(from / SEGMENT_BYTES), lastIndex);
    const opener = new SegmentOpener(key, header, SEGMENT_BYTES, first, lastIndex, from - first * SEGMENT_BYTES, Math.max(0, size - from), `upload ${uploadId}`)
      .setLastPlainLength(size % SEGMENT_BYTES);
    return decrypting(await this.inner.readUpload(uploadId, signal, segmentOffset(first)), opener);
  }

  #plain(stored: number): number {
    const n = plainSize(stored);
    if (n === undefined) throw fail('Internal', 'staged upload has an incomplete segment (interrupted write); restart the upload');
    return n;
  }
}

/** The first `n` bytes of a stream (fewer if it is shorter); the stream is destroyed after. */
export async function readPrefix(stream: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of stream) {
      const c = chunk as Buffer;
      parts.push(c);
      have += c.length;
      if (have >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, n);
}

/** A plaintext stream out of a stream of stored segments. */
export function decrypting(source: Readable, opener: SegmentOpener): Readable {
  return Readable.from((async function* () {
    for await (const chunk of source) for (const piece of opener.push(chunk as Buffer)) yield piece;
    opener.end();
  })(), { objectMode: false });
}

/**
 * A stream of a blob believed plaintext, or `undefined` (the stream destroyed) when its first bytes
 * are an envelope header: the object was replaced by its envelope (encrypt-existing, a KMS commit
 * with storage.redirect) between the look at its head and this read, and must be read again.
 */
export async function plainUnlessEnvelope(stream: Readable): Promise<Readable | undefined> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const parts: Buffer[] = [];
  let have = 0;
  let ended = false;
  try {
    while (have < HEADER_BYTES) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      parts.push(r.value);
      have += r.value.length;
    }
  } catch (err) {
    stream.destroy();
    throw err;
  }
  const prefix = Buffer.concat(parts);
  if (parseHeader(prefix.subarray(0, HEADER_BYTES))) {
    stream.destroy();
    return undefined;
  }
  return Readable.from((async function* () {
    try {
      if (prefix.length > 0) yield prefix;
      while (!ended) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      stream.destroy();
    }
  })(), { objectMode: false });
}
