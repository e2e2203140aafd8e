/**
 * Key material sealed by an external AWS KMS through the real `@aws-sdk/client-kms`: a second
 * berth process is configured with a key of the first berth's KMS (which speaks the same API).
 * Keys created on the second berth work end to end, and only while the external key is enabled.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { sha256 } from '../fixtures/oci-image.js';
import { awsCli, awsJson, cliErrorName } from './aws-helpers.js';
import { BerthServer, describeRun, expectOk, toolSkipReason } from './harness.js';

const skip = await toolSkipReason('aws');

describe('external KMS sealing (berth B seals key material with a key in berth A)', { skip: skip ?? false, timeout: 600_000 }, () => {
  let a: BerthServer;
  let b: BerthServer;
  after(async () => {
    await b?.dispose();
    await a?.dispose();
  });

  it('keys on B work through A\'s key, and stop when A\'s key is disabled', async () => {
    a = await BerthServer.start();
    const outer = await awsJson<{ KeyMetadata: { Arn: string; KeyId: string } }>(a, ['kms', 'create-key', '--description', 'seals berth B']);
    const creds = await readFile(join(a.dataDir, 'credentials'), 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, 'm').exec(creds)?.[1] ?? '';
    const configFile = join(a.workDir, 'b.yaml');
    await writeFile(configFile, `kms:\n  externalKeyArn: ${outer.KeyMetadata.Arn}\n  externalEndpoint: ${a.url}\n`);
    b = await BerthServer.start({
      args: ['--config', configFile],
      env: { AWS_ACCESS_KEY_ID: field('aws_access_key_id'), AWS_SECRET_ACCESS_KEY: field('aws_secret_access_key'), AWS_REGION: 'us-east-1', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null' },
    });
    const inner = await awsJson<{ KeyMetadata: { KeyId: string; Arn: string } }>(b, ['kms', 'create-key']);
    const plainFile = join(b.workDir, 'secret.txt');
    await writeFile(plainFile, 'sealed through another KMS');
    const enc = await awsJson<{ CiphertextBlob: string }>(b, ['kms', 'encrypt', '--key-id', inner.KeyMetadata.KeyId, '--plaintext', `fileb://${plainFile}`]);
    const ctFile = join(b.workDir, 'ct.bin');
    await writeFile(ctFile, Buffer.from(enc.CiphertextBlob, 'base64'));
    const dec = await awsJson<{ Plaintext: string }>(b, ['kms', 'decrypt', '--ciphertext-blob', `fileb://${ctFile}`]);
    assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'sealed through another KMS');

    // A KMS-encrypted repository on B: push and pull a blob over /v2.
    expectOk(await awsCli(b, ['ecr', 'create-repository', '--repository-name', 'ext/app', '--encryption-configuration', `encryptionType=KMS,kmsKey=${inner.KeyMetadata.Arn}`]), b);
    const blob = randomBytes(200_000);
    const put = await b.fetch(`/v2/ext/app/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: blob });
    assert.equal(put.status, 201, await put.text());
    const got = await b.fetch(`/v2/ext/app/blobs/${sha256(blob)}`);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(blob));

    // B's key material opens only through A: with A's key disabled, B's key cannot decrypt.
    expectOk(await awsCli(a, ['kms', 'disable-key', '--key-id', outer.KeyMetadata.KeyId]), a);
    const refused = await awsCli(b, ['kms', 'decrypt', '--ciphertext-blob', `fileb://${ctFile}`]);
    assert.notEqual(refused.code, 0, describeRun(refused, b));
    assert.ok(cliErrorName(refused), refused.stderr);
    const blocked = await b.fetch(`/v2/ext/app/blobs/${sha256(blob)}`);
    assert.notEqual(blocked.status, 200);
    await blocked.arrayBuffer();
    expectOk(await awsCli(a, ['kms', 'enable-key', '--key-id', outer.KeyMetadata.KeyId]), a);
    const again = await awsJson<{ Plaintext: string }>(b, ['kms', 'decrypt', '--ciphertext-blob', `fileb://${ctFile}`]);
    assert.equal(Buffer.from(again.Plaintext, 'base64').toString(), 'sealed through another KMS');
  });
});
