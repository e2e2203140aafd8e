/**
 * `s3.serverSideEncryption`: the configuration (file and BERTH_S3_SERVER_SIDE_ENCRYPTION /
 * BERTH_S3_SSE_KMS_KEY_ID) and the `ServerSideEncryption` / `SSEKMSKeyId` parameters every
 * object-creating S3 call then carries (PutObject, CreateMultipartUpload, CopyObject, a multipart
 * copy included), checked on the commands handed to the SDK client. (Ceph RGW in the test setup
 * refuses SSE headers without a key backend, so the real server cannot prove this; see
 * docs/s3-storage.md.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Settings } from '../../src/app/s3-blobs.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { MAX_SINGLE_COPY, S3Io } from '../../src/storage/blob/s3/s3-io.js';

const never = new AbortController().signal;
const S3_ENV = { BERTH_STORAGE_BLOB: 's3', BERTH_S3_BUCKET: 'berth-blobs' };

/** An SDK client stand-in recording each command's name and input, answering what S3Io reads. */
function recordingClient(): { client: S3Client; sent: { name: string; input: Record<string, unknown> }[] } {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ name: command.constructor.name, input: command.input });
      return { UploadId: 'mpu-1', ETag: '"e"', CopyPartResult: { ETag: '"p"' } };
    },
  } as unknown as S3Client;
  return { client, sent };
}

async function writeEverything(io: S3Io): Promise<void> {
  await io.put('k', Buffer.from('x'), never);
  await io.createMultipart('m', never);
  await io.copy('a', 'b', 10, never);
  await io.copy('a', 'big', MAX_SINGLE_COPY + 1, never);
}

describe('s3.serverSideEncryption', () => {
  it('defaults to none: no SSE parameter is sent (the bucket\'s default encryption applies)', async () => {
    const config = await loadConfig({ env: S3_ENV });
    assert.equal(config.s3.serverSideEncryption, 'none');
    assert.equal(s3Settings(config).serverSideEncryption, undefined);
    const { client, sent } = recordingClient();
    await writeEverything(new S3Io(client, 'b', s3Settings(config).serverSideEncryption));
    for (const c of sent) {
      assert.equal(c.input.ServerSideEncryption, undefined, c.name);
      assert.equal(c.input.SSEKMSKeyId, undefined, c.name);
    }
  });

  it('AES256 from the environment is sent on PutObject, CreateMultipartUpload and CopyObject (and a multipart copy\'s upload)', async () => {
    const config = await loadConfig({ env: { ...S3_ENV, BERTH_S3_SERVER_SIDE_ENCRYPTION: 'AES256' } });
    const { client, sent } = recordingClient();
    await writeEverything(new S3Io(client, 'b', s3Settings(config).serverSideEncryption));
    const creating = sent.filter((c) => ['PutObjectCommand', 'CreateMultipartUploadCommand', 'CopyObjectCommand'].includes(c.name));
    assert.deepEqual(creating.map((c) => c.name), ['PutObjectCommand', 'CreateMultipartUploadCommand', 'CopyObjectCommand', 'CreateMultipartUploadCommand']);
    for (const c of creating) assert.equal(c.input.ServerSideEncryption, 'AES256', c.name);
    // Parts and completions inherit the upload's encryption: S3 refuses the header on them.
    for (const c of sent.filter((x) => !creating.includes(x))) assert.equal(c.input.ServerSideEncryption, undefined, c.name);
  });

  it('aws:kms with a key id sends both; a key id without aws:kms is a configuration error', async () => {
    const config = await loadConfig({ env: { ...S3_ENV, BERTH_S3_SERVER_SIDE_ENCRYPTION: 'aws:kms', BERTH_S3_SSE_KMS_KEY_ID: 'alias/berth' } });
    const { client, sent } = recordingClient();
    await new S3Io(client, 'b', s3Settings(config).serverSideEncryption).put('k', Buffer.from('x'), never);
    assert.equal(sent[0]?.input.ServerSideEncryption, 'aws:kms');
    assert.equal(sent[0]?.input.SSEKMSKeyId, 'alias/berth');
    await assert.rejects(loadConfig({ env: { ...S3_ENV, BERTH_S3_SSE_KMS_KEY_ID: 'alias/berth' } }), (e: unknown) => e instanceof ConfigError && /s3\.sseKmsKeyId/.test(e.problems.join('\n')));
    await assert.rejects(loadConfig({ env: { ...S3_ENV, BERTH_S3_SERVER_SIDE_ENCRYPTION: 'aes256' } }), ConfigError);
  });
});
