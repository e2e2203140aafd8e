import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fail } from '../../../core/errors.js';
import { bodyBytes, isNotFound } from './s3-client.js';

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
}

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

/** Reads an upload's state with its last write time, or undefined when there is none. */
export async function loadState(client: S3Client, bucket: string, keys: S3Keys, id: string, signal: AbortSignal): Promise<{ state: UploadState; modifiedAt: Date } | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys.state(id) }), { abortSignal: signal });
    const state = parseState(await bodyBytes(res.Body), id);
    return { state, modifiedAt: res.LastModified ?? new Date() };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function saveState(client: S3Client, bucket: string, keys: S3Keys, id: string, state: UploadState, signal: AbortSignal): Promise<void> {
  const body = Buffer.from(JSON.stringify(state));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: keys.state(id), Body: body, ContentLength: body.length, ContentType: 'application/json' }), { abortSignal: signal });
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
