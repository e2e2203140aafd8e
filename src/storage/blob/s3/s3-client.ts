import { Readable } from 'node:stream';
import {
  CreateBucketCommand, HeadBucketCommand, S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';

/** Connection settings of an S3-compatible store (the `s3.*` configuration). */
export interface S3Settings {
  /** Endpoint URL; unset: AWS S3 for `region`. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Static credentials; unset: the SDK's default credential chain (env, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Key prefix every object is stored under: empty or ending in `/`. */
  prefix: string;
  /** Path-style addressing (`endpoint/bucket/key`), which Ceph RGW and MinIO need. */
  forcePathStyle: boolean;
  /** Server-side encryption to ask for on every object written; unset: the bucket's default (`s3.serverSideEncryption: none`). */
  serverSideEncryption?: ServerSideEncryption;
}

/** S3 server-side encryption: SSE-S3 (`AES256`) or SSE-KMS (`aws:kms`, with the bucket's or the given key). */
export interface ServerSideEncryption {
  mode: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
}

/**
 * Builds the SDK client. Checksums only WHEN_REQUIRED: since SDK 3.729 the default adds CRC32
 * trailers to every upload and validates them on download, which Ceph RGW 16 (and other
 * S3-compatibles) reject or do not send.
 */
export function makeS3Client(s: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // An endpoint that drops packets must fail start-up and verify-config within seconds, not
    // after the OS's TCP timeout; no request timeout, since blob transfers may take long.
    requestHandler: { connectionTimeout: 10_000 },
  };
  if (s.endpoint) config.endpoint = s.endpoint;
  if (s.accessKeyId && s.secretAccessKey) config.credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  return new S3Client(config);
}

/** Creates `bucket` when it does not exist (a bucket someone else owns is an error). */
export async function ensureBucket(client: S3Client, bucket: string, signal?: AbortSignal): Promise<'exists' | 'created'> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    return 'exists';
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  } catch (e) {
    // Another node created it between our HEAD and CREATE.
    if (errorName(e) !== 'BucketAlreadyOwnedByYou') throw e;
  }
  return 'created';
}

export function errorName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}

function httpStatus(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null || !('$metadata' in e)) return undefined;
  const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return meta?.httpStatusCode;
}

/** True for "no such key / bucket / upload" answers (HEAD requests carry no error code, only 404). */
export function isNotFound(e: unknown): boolean {
  const name = errorName(e);
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || name === 'NoSuchUpload' || httpStatus(e) === 404;
}

/** The body of a GetObject answer as a Node stream (it is one at run time on Node). */
export function bodyStream(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (body === undefined) return Readable.from([]);
  throw new Error('S3 answered with a body that is not a Node stream');
}

/** Reads a (small) GetObject body into memory. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of bodyStream(body)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
