import type { Config } from '../config/schema.js';
import type { S3BlobStore } from '../storage/blob/s3/s3-blob-store.js';

/** The `s3.*` settings as the store takes them. Throws when no bucket is configured (the schema already insists). */
export function s3Settings(config: Config): Parameters<typeof S3BlobStore.open>[0] {
  const s = config.s3;
  if (s.bucket === undefined) throw new Error('s3.bucket is required when storage.blob is s3 (BERTH_S3_BUCKET)');
  return {
    bucket: s.bucket, region: s.region, prefix: s.prefix, forcePathStyle: s.forcePathStyle,
    ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
    ...(s.accessKeyId !== undefined ? { accessKeyId: s.accessKeyId } : {}),
    ...(s.secretAccessKey !== undefined ? { secretAccessKey: s.secretAccessKey } : {}),
    ...(s.serverSideEncryption !== 'none'
      ? { serverSideEncryption: { mode: s.serverSideEncryption, ...(s.sseKmsKeyId !== undefined ? { kmsKeyId: s.sseKmsKeyId } : {}) } }
      : {}),
  };
}

/**
 * Opens the S3 blob store (`storage.blob: s3`), creating the bucket when missing. The store and
 * the AWS SDK are loaded here, on first use, so the embedded default never pays for them.
 */
export async function openS3BlobStore(config: Config): Promise<S3BlobStore> {
  const { S3BlobStore } = await import('../storage/blob/s3/s3-blob-store.js');
  const settings = s3Settings(config);
  try {
    return await S3BlobStore.open(settings, AbortSignal.timeout(30_000));
  } catch (e) {
    throw new Error(`cannot open S3 bucket ${settings.bucket} at ${settings.endpoint ?? `AWS S3 (${settings.region})`}: ${describe(e)}`, { cause: e });
  }
}

/** A one-line reason from an SDK / network error (connection errors carry their code, not a message). */
export function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  const status = '$metadata' in e ? (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode : undefined;
  // The SDK names an error answer without an S3 error body (an HTTP server that is not S3, a HEAD
  // request) "UnknownError"; the status is then the only clue.
  const message = e.message === 'UnknownError' ? 'the endpoint answered without an S3 error (is it an S3 API?)' : e.message;
  const parts = [e.name !== 'Error' ? e.name : undefined, message || undefined, code && !message.includes(code) ? code : undefined, status ? `HTTP ${status}` : undefined];
  const text = parts.filter((p) => p !== undefined).join(': ');
  return text || (e instanceof AggregateError ? e.errors.map(describe).join('; ') : 'unknown error');
}
