import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { fail } from '../../../core/errors.js';
import { isDigest, parseDigest, type Digest } from '../../../core/digest.js';
import type { BlobStore } from '../../../core/ports/blob-store.js';
import { assertOffset, assertUploadId, isUploadId } from '../upload-id.js';
import { ensureBucket, makeS3Client, type S3Settings } from './s3-client.js';
import { S3Io } from './s3-io.js';
import { partsSize, S3Keys } from './s3-upload-state.js';
import { S3Uploads } from './s3-uploads.js';

/** Options for {@link S3BlobStore}. */
export interface S3BlobStoreOptions extends S3Settings {
  /** Bytes per multipart part (default 8 MiB: 10,000 parts then hold 78 GiB; S3's minimum is 5 MiB). */
  partSize?: number;
}

const MIN_PART = 5 * 1024 * 1024;
const DEFAULT_PART = 8 * 1024 * 1024;
const BLOB_KEY_RE = /^(sha256|sha512)\/([a-f0-9]+)$/;

/**
 * {@link BlobStore} on S3-compatible object storage, shared by every node of a registry.
 *
 * ```
 *   <prefix>blobs/<alg>/<hex>              committed blob (immutable; appears by one CopyObject /
 *                                           CompleteMultipartUpload, so readers see all or nothing)
 *   <prefix>uploads/<id>/state.json        upload state (s3-upload-state.ts), replaced by one PUT
 *   <prefix>uploads/<id>/data-<rand>       the upload's S3 multipart upload (parts ≥ part size) and,
 *                                           once sealed, the completed object
 *   <prefix>uploads/<id>/tail-<rand>       pending bytes below one part, between PATCHes
 * ```
 *
 * Nothing is held in process memory between calls, so any node continues an upload another
 * started. Committing copies the sealed upload to the blob key server-side (the digest, and so the
 * key, is known only at the end). Abandoned uploads (multipart uploads included) are listed by
 * {@link listUploads} and removed by {@link deleteUpload}, which garbage collection calls.
 */
export class S3BlobStore implements BlobStore {
  readonly #io: S3Io;
  readonly #keys: S3Keys;
  readonly #uploads: S3Uploads;
  /** Upload ids with an append or commit in flight in this process; a second writer is refused. */
  readonly #busy = new Set<string>();

  private constructor(client: S3Client, options: S3BlobStoreOptions) {
    this.#io = new S3Io(client, options.bucket, options.serverSideEncryption);
    this.#keys = new S3Keys(options.prefix);
    const partSize = options.partSize ?? DEFAULT_PART;
    if (partSize < MIN_PART) throw new Error(`S3 part size must be at least ${MIN_PART} bytes`);
    this.#uploads = new S3Uploads(this.#io, this.#keys, partSize);
  }

  /** Connects, creating the bucket when it is missing. Throws when S3 cannot be reached. */
  static async open(options: S3BlobStoreOptions, signal?: AbortSignal): Promise<S3BlobStore> {
    const client = makeS3Client(options);
    try {
      await ensureBucket(client, options.bucket, signal);
    } catch (e) {
      client.destroy();
      throw e;
    }
    return new S3BlobStore(client, options);
  }

  /** {@inheritDoc BlobStore.appendUpload} */
  async appendUpload(uploadId: string, offset: number, body: Readable, signal: AbortSignal): Promise<number> {
    assertUploadId(uploadId);
    assertOffset(offset);
    signal.throwIfAborted();
    return this.#exclusive(uploadId, 'another append to this upload is in progress', () => this.#uploads.append(uploadId, offset, body, signal).catch((e: unknown) => {
      // The SDK reports an aborted request as a plain "aborted" error; callers expect the AbortError.
      signal.throwIfAborted();
      throw e;
    }));
  }

  /** {@inheritDoc BlobStore.uploadSize} */
  async uploadSize(uploadId: string, signal: AbortSignal): Promise<number | undefined> {
    assertUploadId(uploadId);
    signal.throwIfAborted();
    return this.#uploads.size(uploadId, signal);
  }

  /**
   * {@inheritDoc BlobStore.readUpload} Bytes still in the pending tail are read from it directly;
   * anything earlier first seals the upload (parts of an open multipart upload cannot be read).
   */
  async readUpload(uploadId: string, signal: AbortSignal, from = 0): Promise<Readable> {
    assertUploadId(uploadId);
    signal.throwIfAborted();
    const loaded = await this.#uploads.load(uploadId, signal);
    if (!loaded) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    const { state } = loaded;
    if (from >= state.size) return Readable.from([]);
    const partsEnd = partsSize(state);
    let key: string | undefined;
    let start = from;
    if (!state.sealed && from >= partsEnd && state.tail) {
      key = state.tail.key;
      start = from - partsEnd;
    } else {
      key = (await this.#exclusive(uploadId, 'cannot read while an append is in progress', () => this.#uploads.seal(uploadId, loaded, signal))).key;
    }
    const stream = key === undefined ? undefined : await this.#io.stream(key, start > 0 ? { start, end: state.size - (from - start) - 1 } : undefined, signal);
    if (key !== undefined && !stream) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    return stream ?? Readable.from([]);
  }

  /** {@inheritDoc BlobStore.uploadHead} From the state's copy of the first bytes: no seal, one GET. */
  async uploadHead(uploadId: string, n: number, signal: AbortSignal): Promise<Buffer> {
    assertUploadId(uploadId);
    const loaded = await this.#uploads.load(uploadId, signal);
    if (!loaded) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    const { head, size } = loaded.state;
    const kept = head === undefined ? undefined : Buffer.from(head, 'base64');
    if (kept && (kept.length >= n || kept.length === size)) return kept.subarray(0, n);
    // A state written before heads were kept: read (and seal) it.
    const stream = await this.readUpload(uploadId, signal);
    const parts: Buffer[] = [];
    let have = 0;
    try {
      for await (const chunk of stream) {
        parts.push(chunk as Buffer);
        have += (chunk as Buffer).length;
        if (have >= n) break;
      }
    } finally {
      stream.destroy();
    }
    return Buffer.concat(parts).subarray(0, n);
  }

  /** {@inheritDoc BlobStore.commitUpload} */
  async commitUpload(uploadId: string, digest: Digest, signal: AbortSignal, replace = false): Promise<void> {
    assertUploadId(uploadId);
    const target = this.#blobKey(digest);
    signal.throwIfAborted();
    await this.#exclusive(uploadId, 'cannot commit while an append is in progress', async () => {
      const loaded = await this.#uploads.load(uploadId, signal);
      if (!loaded) throw fail('UploadNotFound', 'upload unknown', { uploadId });
      // Content-addressed and immutable: an existing blob already holds these exact bytes — unless
      // the caller re-encodes it (`replace`); a CopyObject over it is atomic for readers.
      if (replace || !(await this.#io.head(target, signal))) {
        const { key: source } = await this.#uploads.seal(uploadId, loaded, signal);
        if (source === undefined) await this.#io.put(target, Buffer.alloc(0), signal);
        else await this.#io.copy(source, target, loaded.state.size, signal);
      }
      await this.#uploads.discard(uploadId, signal);
    });
  }

  /** {@inheritDoc BlobStore.deleteUpload} Aborts its multipart uploads too. */
  async deleteUpload(uploadId: string, signal: AbortSignal): Promise<void> {
    assertUploadId(uploadId);
    signal.throwIfAborted();
    await this.#uploads.discard(uploadId, signal);
  }

  /** {@inheritDoc BlobStore.listUploads} Includes multipart uploads whose first append died before recording any state. */
  async *listUploads(signal: AbortSignal): AsyncIterable<{ uploadId: string; size: number; modifiedAt: Date }> {
    for await (const u of this.#uploads.list(signal)) if (isUploadId(u.uploadId)) yield u;
  }

  /** {@inheritDoc BlobStore.stat} */
  async stat(digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    const key = this.#blobKey(digest);
    signal.throwIfAborted();
    const head = await this.#io.head(key, signal);
    return head ? { size: head.size } : undefined;
  }

  /** {@inheritDoc BlobStore.read} Streams straight from S3 (a ranged GET for a range). */
  async read(digest: Digest, range: { start: number; end: number } | undefined, signal: AbortSignal): Promise<Readable> {
    const key = this.#blobKey(digest);
    signal.throwIfAborted();
    const stream = await this.#io.stream(key, range, signal);
    if (!stream) throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    return stream;
  }

  /**
   * A presigned GET URL of blob `digest`, valid for `expiresSeconds` (clients then fetch the bytes
   * from S3 directly). Signing is local: it does not check that the blob exists.
   */
  async presignedUrl(digest: Digest, expiresSeconds: number): Promise<string> {
    const key = this.#blobKey(digest);
    return getSignedUrl(this.#io.client, new GetObjectCommand({ Bucket: this.#io.bucket, Key: key }), { expiresIn: expiresSeconds });
  }

  /** {@inheritDoc BlobStore.delete} */
  async delete(digest: Digest, signal: AbortSignal): Promise<void> {
    const key = this.#blobKey(digest);
    signal.throwIfAborted();
    await this.#io.delete(key, signal);
  }

  /** {@inheritDoc BlobStore.list} Page by page (1,000 keys per request); keys not shaped like blobs are skipped. */
  async *list(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modifiedAt: Date }> {
    const root = this.#keys.blobsRoot;
    for await (const o of this.#io.list(root, signal)) {
      const m = BLOB_KEY_RE.exec(o.key.slice(root.length));
      const digest = m ? `${m[1]}:${m[2]}` : '';
      if (isDigest(digest)) yield { digest: digest as Digest, size: o.size, modifiedAt: o.modifiedAt };
    }
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    this.#io.client.destroy();
  }

  #blobKey(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return this.#keys.blob(algorithm, hex);
  }

  async #exclusive<T>(uploadId: string, message: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(uploadId)) throw fail('UploadInvalid', message, { uploadId });
    this.#busy.add(uploadId);
    try {
      return await work();
    } finally {
      this.#busy.delete(uploadId);
    }
  }
}
