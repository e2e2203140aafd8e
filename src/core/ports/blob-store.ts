import type { Readable } from 'node:stream';
import type { Digest } from '../digest.js';

/**
 * Content-addressed blob storage plus the staging area uploads are written to.
 *
 * ```
 *   uploads/<uploadId>            staged bytes of one upload session (appended, never read by pulls)
 *        │  commitUpload(id, digest): durable (fsync), then atomically moved
 *        ▼
 *   blobs/<alg>/<hex[0:2]>/<hex>  immutable committed blob, visible to stat/read only once complete
 * ```
 *
 * The store never checks digests: the caller hashes what it streams and commits only verified
 * uploads. A committed blob is immutable; committing a digest that already exists is a no-op that
 * discards the staged copy. Nothing here knows about repositories — the metadata store does.
 */
export interface BlobStore {
  /**
   * Appends `body` to staged upload `uploadId` starting at byte `offset`, creating the upload when
   * `offset` is 0. Resolves with the upload's new total size once every byte is written (not yet
   * durable). The caller's `offset` (the size the metadata recorded) is the truth: staged bytes past
   * it — left by a request that crashed before its size was recorded — are discarded first. Throws
   * `UploadInvalid` if `offset` is beyond the staged size or another append to the same upload is in
   * progress, `UploadNotFound` for `offset > 0` on a missing upload, and rejects with the body's own
   * error if the body stream fails; bytes appended by a failed call are truncated away, so a retry
   * from the same offset is safe.
   */
  appendUpload(uploadId: string, offset: number, body: Readable, signal: AbortSignal): Promise<number>;

  /** Size in bytes of a staged upload, or `undefined` when there is none. */
  uploadSize(uploadId: string, signal: AbortSignal): Promise<number | undefined>;

  /**
   * Streams a staged upload from the start (used to recompute a digest), or from byte `from`
   * (an encrypting wrapper re-reads the trailing segment it re-seals). Throws `UploadNotFound`.
   */
  readUpload(uploadId: string, signal: AbortSignal, from?: number): Promise<Readable>;

  /**
   * Optional: the first `n` (at most 64) bytes of a staged upload, for a store where reading an
   * upload's start through {@link readUpload} is costly (S3 must seal its multipart upload first).
   * Throws `UploadNotFound`.
   */
  uploadHead?(uploadId: string, n: number, signal: AbortSignal): Promise<Buffer>;

  /**
   * Makes staged upload `uploadId` durable and visible as blob `digest`, atomically: readers see
   * either no blob or all of it. Idempotent when the blob already exists (the staged copy is
   * removed). With `replace`, an existing blob is atomically replaced instead (readers see the
   * old bytes or the new, never neither): for re-encoding the same content, e.g. encrypting a
   * plaintext blob in place. Throws `UploadNotFound` when nothing is staged.
   */
  commitUpload(uploadId: string, digest: Digest, signal: AbortSignal, replace?: boolean): Promise<void>;

  /** Removes a staged upload; a no-op when it does not exist. */
  deleteUpload(uploadId: string, signal: AbortSignal): Promise<void>;

  /** Lists staged uploads with their last modification time (for clean-up of abandoned sessions). */
  listUploads(signal: AbortSignal): AsyncIterable<{ uploadId: string; size: number; modifiedAt: Date }>;

  /** Size of a committed blob, or `undefined` when it does not exist. */
  stat(digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined>;

  /**
   * Streams a committed blob, or the inclusive byte range `[start, end]` of it.
   * Throws `BlobNotFound`. The caller validates the range against {@link stat}.
   */
  read(digest: Digest, range: { start: number; end: number } | undefined, signal: AbortSignal): Promise<Readable>;

  /**
   * Optional fast path for serving large blobs: hands the blob, or the inclusive range, to `write`
   * chunk by chunk, reusing two buffers instead of allocating one per chunk (allocation rate drives
   * garbage collection at hundreds of MB/s). A chunk is valid only until the promise `write`
   * returned for it resolves; the next read overlaps with the previous write. Throws `BlobNotFound`,
   * `Internal` if the blob is shorter than the range, and stops when `signal` aborts.
   */
  pipeTo?(digest: Digest, range: { start: number; end: number } | undefined, write: (chunk: Buffer) => Promise<void>, signal: AbortSignal): Promise<void>;

  /**
   * Optional: a time-limited URL (valid `expiresSeconds`) from which a client can GET the bytes of
   * blob `digest` without going through berth (S3 presigned URLs, `storage.redirect`). Only for
   * stored bytes that ARE the blob: a wrapper that transforms bytes (the encrypting store) offers
   * it only for objects it stores untransformed, and callers serve every other blob themselves.
   * Resolves `undefined` when the store declines for this blob. Need not check that the blob exists.
   */
  presignedUrl?(digest: Digest, expiresSeconds: number, signal?: AbortSignal): Promise<string | undefined>;

  /** Deletes a committed blob; a no-op when absent. Only garbage collection calls this. */
  delete(digest: Digest, signal: AbortSignal): Promise<void>;

  /** Lists every committed blob (for fsck and garbage collection). */
  list(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modifiedAt: Date }>;

  /** Releases resources. */
  close(): Promise<void>;
}
