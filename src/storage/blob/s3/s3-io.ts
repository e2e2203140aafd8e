import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command,
  PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { PartRef } from './s3-upload-state.js';
import { bodyBytes, bodyStream, isNotFound, type ServerSideEncryption } from './s3-client.js';

/** The largest object one CopyObject may copy (S3's limit); bigger ones are copied part by part. */
export const MAX_SINGLE_COPY = 5 * 1024 ** 3;

/**
 * Thin wrappers over the S3 calls the blob store makes, on one bucket. Every call takes the
 * caller's signal, so an aborted request stops its S3 traffic too. Objects are deleted one at a
 * time: DeleteObjects requires a Content-MD5 that newer SDKs replace with CRC checksums some
 * S3-compatible servers refuse, and an upload has only a handful of objects.
 */
export class S3Io {
  /** The `ServerSideEncryption` (+ key id) parameters every object-creating call carries. */
  readonly #sse: { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string };

  /**
   * `sse`: server-side encryption asked for on every object written (PutObject,
   * CreateMultipartUpload, CopyObject) — blobs, staged uploads and their state alike, so nothing
   * berth writes relies on the bucket's default. Unset: no header, the bucket's default applies.
   */
  constructor(readonly client: S3Client, readonly bucket: string, sse?: ServerSideEncryption) {
    this.#sse = sse ? { ServerSideEncryption: sse.mode, ...(sse.kmsKeyId !== undefined ? { SSEKMSKeyId: sse.kmsKeyId } : {}) } : {};
  }

  async put(key: string, body: Buffer, signal: AbortSignal): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ...this.#sse }), { abortSignal: signal });
  }

  /** Size and modification time of an object, or undefined when it does not exist. */
  async head(key: string, signal: AbortSignal): Promise<{ size: number; modifiedAt: Date } | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return { size: res.ContentLength ?? 0, modifiedAt: res.LastModified ?? new Date() };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Streams an object or the inclusive range of it; undefined when it does not exist. */
  async stream(key: string, range: { start: number; end: number } | undefined, signal: AbortSignal): Promise<Readable | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({
        Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }), { abortSignal: signal });
      return bodyStream(res.Body);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Reads bytes `[start, end]` of a (staging) object into memory: only used for pieces below the part size. */
  async readRange(key: string, start: number, end: number, signal: AbortSignal): Promise<Buffer> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }), { abortSignal: signal });
    return bodyBytes(res.Body);
  }

  async delete(key: string, signal: AbortSignal): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
  }

  /** Every object under `prefix`, page by page (1,000 keys per request). */
  async *list(prefix: string, signal: AbortSignal): AsyncIterable<{ key: string; size: number; modifiedAt: Date }> {
    let token: string | undefined;
    do {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      for (const o of res.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  /** Every unfinished multipart upload under `prefix`. */
  async *listMultipart(prefix: string, signal: AbortSignal): AsyncIterable<{ key: string; id: string; initiated: Date }> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const res = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: idMarker }), { abortSignal: signal });
      for (const u of res.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined) yield { key: u.Key, id: u.UploadId, initiated: u.Initiated ?? new Date(0) };
      }
      if (!res.IsTruncated) return;
      keyMarker = res.NextKeyMarker;
      idMarker = res.NextUploadIdMarker;
    }
  }

  async createMultipart(key: string, signal: AbortSignal): Promise<string> {
    const res = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...this.#sse }), { abortSignal: signal });
    if (!res.UploadId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
    return res.UploadId;
  }

  async uploadPart(key: string, uploadId: string, n: number, body: Buffer, signal: AbortSignal): Promise<PartRef> {
    const res = await this.client.send(new UploadPartCommand({
      Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.length,
    }), { abortSignal: signal });
    if (!res.ETag) throw new Error('S3 UploadPart returned no ETag');
    return { n, etag: res.ETag, size: body.length };
  }

  /** Server-side copy of bytes `[start, end]` of `source` into part `n` (nothing flows through berth). */
  async copyPart(key: string, uploadId: string, n: number, source: string, start: number, end: number, signal: AbortSignal): Promise<PartRef> {
    const res = await this.client.send(new UploadPartCopyCommand({
      Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n,
      CopySource: `${this.bucket}/${source}`, CopySourceRange: `bytes=${start}-${end}`,
    }), { abortSignal: signal });
    const etag = res.CopyPartResult?.ETag;
    if (!etag) throw new Error('S3 UploadPartCopy returned no ETag');
    return { n, etag, size: end - start + 1 };
  }

  /** Completes a multipart upload from exactly `parts` (any other uploaded part is dropped). */
  async complete(key: string, uploadId: string, parts: PartRef[], signal: AbortSignal): Promise<void> {
    await this.client.send(new CompleteMultipartUploadCommand({
      Bucket: this.bucket, Key: key, UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
    }), { abortSignal: signal });
  }

  async abort(key: string, uploadId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), { abortSignal: signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /**
   * Copies object `source` (of `size` bytes) to `target` atomically: one CopyObject up to 5 GiB,
   * above that a multipart copy whose completion makes the whole object appear at once.
   */
  async copy(source: string, target: string, size: number, signal: AbortSignal): Promise<void> {
    if (size <= MAX_SINGLE_COPY) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: `${this.bucket}/${source}`, ...this.#sse }), { abortSignal: signal });
      return;
    }
    const uploadId = await this.createMultipart(target, signal);
    try {
      const parts: PartRef[] = [];
      const piece = 1024 ** 3;
      for (let start = 0, n = 1; start < size; start += piece, n++) {
        parts.push(await this.copyPart(target, uploadId, n, source, start, Math.min(size, start + piece) - 1, signal));
      }
      await this.complete(target, uploadId, parts, signal);
    } catch (e) {
      await this.abort(target, uploadId, signal).catch(() => {});
      throw e;
    }
  }
}
