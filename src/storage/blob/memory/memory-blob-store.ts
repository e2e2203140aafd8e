import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail } from '../../../core/errors.js';
import { parseDigest, type Digest } from '../../../core/digest.js';
import type { BlobStore } from '../../../core/ports/blob-store.js';
import { assertOffset, assertUploadId } from '../upload-id.js';

interface StagedUpload {
  /** Appended chunks, kept separate so appends stay O(chunk) rather than re-copying the whole upload. */
  chunks: Buffer[];
  size: number;
  modifiedAt: Date;
}

interface StoredBlob {
  bytes: Buffer;
  modifiedAt: Date;
}

/**
 * In-process {@link BlobStore} for tests and single-process development. Same semantics as the
 * file-system store (including upload id validation and refusing a second concurrent append to one
 * upload), but nothing survives the process.
 */
export class MemoryBlobStore implements BlobStore {
  readonly #uploads = new Map<string, StagedUpload>();
  readonly #blobs = new Map<Digest, StoredBlob>();
  /** Upload ids with an append in flight; a second writer is refused rather than interleaved. */
  readonly #busy = new Set<string>();

  /** {@inheritDoc BlobStore.appendUpload} */
  async appendUpload(uploadId: string, offset: number, body: Readable, signal: AbortSignal): Promise<number> {
    assertUploadId(uploadId);
    assertOffset(offset);
    signal.throwIfAborted();
    if (this.#busy.has(uploadId)) {
      throw fail('UploadInvalid', 'another append to this upload is in progress', { uploadId });
    }
    const current = this.#uploads.get(uploadId);
    if (!current && offset > 0) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    const size = current?.size ?? 0;
    if (size < offset) {
      throw fail('UploadInvalid', 'offset is beyond the staged size', { uploadId, offset, size });
    }
    if (current && size > offset) truncateChunks(current, offset);
    this.#busy.add(uploadId);
    try {
      // Collected aside and published only on success: a failed body leaves the upload untouched.
      const pending: Buffer[] = [];
      let added = 0;
      const sink = new Writable({
        write(chunk: unknown, encoding, done) {
          const buf = toBuffer(chunk, encoding);
          pending.push(buf);
          added += buf.length;
          done();
        },
      });
      await pipeline(body, sink, { signal });
      const target = this.#uploads.get(uploadId) ?? { chunks: [], size: 0, modifiedAt: new Date() };
      target.chunks.push(...pending);
      target.size += added;
      target.modifiedAt = new Date();
      this.#uploads.set(uploadId, target);
      return target.size;
    } finally {
      this.#busy.delete(uploadId);
    }
  }

  /** {@inheritDoc BlobStore.uploadSize} */
  async uploadSize(uploadId: string, signal: AbortSignal): Promise<number | undefined> {
    assertUploadId(uploadId);
    signal.throwIfAborted();
    return this.#uploads.get(uploadId)?.size;
  }

  /** {@inheritDoc BlobStore.readUpload} */
  async readUpload(uploadId: string, signal: AbortSignal, from?: number): Promise<Readable> {
    assertUploadId(uploadId);
    signal.throwIfAborted();
    const upload = this.#uploads.get(uploadId);
    if (!upload) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    return bytesStream(from ? [Buffer.concat(upload.chunks).subarray(from)] : [...upload.chunks]);
  }

  /** {@inheritDoc BlobStore.commitUpload} */
  async commitUpload(uploadId: string, digest: Digest, signal: AbortSignal, replace = false): Promise<void> {
    assertUploadId(uploadId);
    parseDigest(digest);
    signal.throwIfAborted();
    if (this.#busy.has(uploadId)) {
      throw fail('UploadInvalid', 'cannot commit while an append is in progress', { uploadId });
    }
    const upload = this.#uploads.get(uploadId);
    if (!upload) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    this.#uploads.delete(uploadId);
    if (this.#blobs.has(digest) && !replace) return;
    this.#blobs.set(digest, { bytes: Buffer.concat(upload.chunks, upload.size), modifiedAt: new Date() });
  }

  /** {@inheritDoc BlobStore.deleteUpload} */
  async deleteUpload(uploadId: string, signal: AbortSignal): Promise<void> {
    assertUploadId(uploadId);
    signal.throwIfAborted();
    this.#uploads.delete(uploadId);
  }

  /** {@inheritDoc BlobStore.listUploads} */
  async *listUploads(signal: AbortSignal): AsyncIterable<{ uploadId: string; size: number; modifiedAt: Date }> {
    for (const [uploadId, upload] of [...this.#uploads]) {
      signal.throwIfAborted();
      yield { uploadId, size: upload.size, modifiedAt: upload.modifiedAt };
    }
  }

  /** {@inheritDoc BlobStore.stat} */
  async stat(digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    parseDigest(digest);
    signal.throwIfAborted();
    const blob = this.#blobs.get(digest);
    return blob ? { size: blob.bytes.length } : undefined;
  }

  /** {@inheritDoc BlobStore.read} */
  async read(
    digest: Digest,
    range: { start: number; end: number } | undefined,
    signal: AbortSignal,
  ): Promise<Readable> {
    parseDigest(digest);
    signal.throwIfAborted();
    const blob = this.#blobs.get(digest);
    if (!blob) throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    const bytes = range ? blob.bytes.subarray(range.start, range.end + 1) : blob.bytes;
    return bytesStream([bytes]);
  }

  /** {@inheritDoc BlobStore.delete} */
  async delete(digest: Digest, signal: AbortSignal): Promise<void> {
    parseDigest(digest);
    signal.throwIfAborted();
    this.#blobs.delete(digest);
  }

  /** {@inheritDoc BlobStore.list} */
  async *list(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modifiedAt: Date }> {
    for (const [digest, blob] of [...this.#blobs]) {
      signal.throwIfAborted();
      yield { digest, size: blob.bytes.length, modifiedAt: blob.modifiedAt };
    }
  }

  /** Drops everything held; the store stays usable (and empty) afterwards. */
  async close(): Promise<void> {
    this.#uploads.clear();
    this.#blobs.clear();
  }
}

function toBuffer(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  throw new TypeError('upload body must yield bytes');
}

/** A byte-mode stream (not object mode, unlike a bare `Readable.from`) over the given buffers. */
function bytesStream(buffers: Buffer[]): Readable {
  return Readable.from(buffers.filter((b) => b.length > 0), { objectMode: false });
}

/** Drops staged bytes past `length`, as the fs store's truncate does. */
function truncateChunks(upload: { chunks: Buffer[]; size: number }, length: number): void {
  const kept = Buffer.concat(upload.chunks).subarray(0, length);
  upload.chunks = [Buffer.from(kept)];
  upload.size = length;
}
