import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fail } from '../../../core/errors.js';
import { bodyBytes, errorName, isNotFound } from './s3-client.js';

/** One part of the upload's S3 multipart upload, in order. */
export interface PartRef {
  n: number;
  etag: string;
  size: number;
}

/**
 * Everything a node needs to continue an upload, stored as `uploads/<id>/state.json` and replaced
 * by one PUT (atomic) after the objects it names are written. Bytes of the upload, in order:
 *
 * ```
 *   sealed:   sealed.key [0, size)                      (a complete object; no parts, no tail)
 *   or:       mpu.parts[0] ++ mpu.parts[1] ++ … ++ tail  (parts live in an unfinished multipart upload)
 * ```
 *
 * Parts are ≥ the minimum part size; the tail holds the pending bytes below it, persisted between
 * PATCHes so no node keeps upload bytes in memory. Parts of an unfinished multipart upload cannot
 * be read back, so reading the staged bytes (digest recomputation) or cutting them inside a part
 * (crash recovery) first *seals* the upload: completes the multipart upload into an object.
 */
export interface UploadState {
  v: 1;
  size: number;
  mpu?: { key: string; id: string; parts: PartRef[] };
  tail?: { key: string; size: number };
  sealed?: { key: string };
  /**
   * The upload's first bytes (up to {@link HEAD_BYTES}, base64), so a caller that only needs the
   * start (the encrypting wrapper checks its envelope header before every append) does not have to
   * seal the multipart upload to read it. Absent in states written before it existed.
   */
  head?: string;
}

/** How many leading bytes of an upload its state keeps (see {@link UploadState.head}). */
export const HEAD_BYTES = 64;

/** Object keys of one store (all under the configured prefix). */
export class S3Keys {
  constructor(readonly prefix: string) {}

  get uploadsRoot(): string {
    return `${this.prefix}uploads/`;
  }

  get blobsRoot(): string {
    return `${this.prefix}blobs/`;
  }

  uploadDir(id: string): string {
    return `${this.uploadsRoot}${id}/`;
  }

  state(id: string): string {
    return `${this.uploadDir(id)}state.json`;
  }

  /** A fresh object name in the upload's folder: objects are never overwritten in place, so a state a crash left behind still names intact bytes. */
  fresh(id: string, kind: 'tail' | 'data'): string {
    return `${this.uploadDir(id)}${kind}-${randomBytes(8).toString('hex')}`;
  }

  blob(algorithm: string, hex: string): string {
    return `${this.blobsRoot}${algorithm}/${hex}`;
  }

  /** The upload id of a key under `uploads/`, or undefined. */
  uploadIdOf(key: string): string | undefined {
    if (!key.startsWith(this.uploadsRoot)) return undefined;
    const rest = key.slice(this.uploadsRoot.length);
    const slash = rest.indexOf('/');
    return slash > 0 ? rest.slice(0, slash) : undefined;
  }
}

export function partsSize(state: UploadState): number {
  return (state.mpu?.parts ?? []).reduce((sum, p) => sum + p.size, 0);
}

/** A state as read: `etag` is the version a conditional write must find to replace it. */
export interface LoadedState {
  state: UploadState;
  etag: string;
  modifiedAt: Date;
}

/** Reads an upload's state with its version and last write time, or undefined when there is none. */
export async function loadState(client: S3Client, bucket: string, keys: S3Keys, id: string, signal: AbortSignal): Promise<LoadedState | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys.state(id) }), { abortSignal: signal });
    const state = parseState(await bodyBytes(res.Body), id);
    return { state, etag: res.ETag ?? '', modifiedAt: res.LastModified ?? new Date() };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Replaces the state only if it is still version `expected` (`undefined`: only if there is none),
 * so two nodes appending to one upload at once cannot both win: the loser gets `UploadInvalid`,
 * and parts it overwrote are caught by CompleteMultipartUpload's ETag check, never committed.
 * Resolves with the new version.
 */
export async function saveState(client: S3Client, bucket: string, keys: S3Keys, id: string, state: UploadState, expected: string | undefined, signal: AbortSignal): Promise<string> {
  const body = Buffer.from(JSON.stringify(state));
  const put = (condition: { IfMatch: string } | { IfNoneMatch: string }) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: keys.state(id), Body: body, ContentLength: body.length, ContentType: 'application/json', ...condition }), { abortSignal: signal });
  try {
    // Ceph RGW 16 matches If-Match only against the bare ETag; AWS S3 takes it quoted or bare.
    return (await put(expected === undefined ? { IfNoneMatch: '*' } : { IfMatch: expected.replace(/^"|"$/g, '') })).ETag ?? '';
  } catch (e) {
    if (errorName(e) !== 'PreconditionFailed') throw e;
    // A server that only understands the quoted form: unchanged state means our condition held.
    const now = expected === undefined ? undefined : await loadState(client, bucket, keys, id, signal);
    if (now && now.etag === expected) return (await put({ IfMatch: expected! })).ETag ?? '';
    throw fail('UploadInvalid', 'the upload was changed concurrently: another append to it is in progress (possibly on another node)', { uploadId: id });
  }
}

function parseState(bytes: Buffer, id: string): UploadState {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || (value as { v?: unknown }).v !== 1 || typeof (value as { size?: unknown }).size !== 'number') {
    throw fail('Internal', 'staged upload state is unreadable', { uploadId: id });
  }
  return value as UploadState;
}
