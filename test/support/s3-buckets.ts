/**
 * Clean-up of the buckets S3-backed tests create (test/support/servers.ts `freshS3()` names them):
 * every unfinished multipart upload is aborted and every object deleted, then the bucket.
 */
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../src/storage/blob/s3/s3-client.js';
import { S3Io } from '../../src/storage/blob/s3/s3-io.js';

export interface TestBucket {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

/** Empties and deletes `b.bucket`; a bucket that was never created is fine. */
export async function deleteTestBucket(b: TestBucket): Promise<void> {
  const client = makeS3Client({ ...b, prefix: '', forcePathStyle: true });
  const io = new S3Io(client, b.bucket);
  const never = new AbortController().signal;
  try {
    for await (const u of io.listMultipart('', never)) await io.abort(u.key, u.id, never);
    for await (const o of io.list('', never)) await io.delete(o.key, never);
    await client.send(new DeleteBucketCommand({ Bucket: b.bucket }));
  } catch (e) {
    if (!(e instanceof Error && e.name === 'NoSuchBucket')) throw e;
  } finally {
    client.destroy();
  }
}

/** Whether the bucket exists (HEAD). */
export async function bucketExists(b: TestBucket): Promise<boolean> {
  const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const client = makeS3Client({ ...b, prefix: '', forcePathStyle: true });
  try {
    await client.send(new HeadBucketCommand({ Bucket: b.bucket }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
