/**
 * Encryption at rest with the built-in key service, driven by real clients: the `aws kms` and
 * `aws ecr` CLIs create a key, an alias and a KMS-encrypted repository; skopeo pushes and pulls;
 * disabling the key stops pulls (a clear error naming the key) and pushes (KmsException on the
 * ECR API); enabling restores; rotation keeps old blobs readable. On disk no stored blob holds a
 * 32-byte run of its plaintext. An IAM user with ecr:* but not kms:Decrypt cannot pull.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { buildImageLayout, readLayoutBlob, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { awsCli, awsJson, basicAuth, cliErrorName, ecrClient, iamClient, loginPassword, type AwsKeys } from './aws-helpers.js';
import { BerthServer, describeRun, expectOk, run, toolSkipReason, type RunResult } from './harness.js';

const skip = (await toolSkipReason('skopeo')) ?? (await toolSkipReason('aws'));

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** Whether any 32-byte window of `plain` occurs in `stored`. */
function sharesA32ByteRun(plain: Buffer, stored: Buffer): boolean {
  if (plain.length < 32) return stored.includes(plain);
  const windows = new Set<string>();
  for (let i = 0; i + 32 <= plain.length; i++) windows.add(plain.subarray(i, i + 32).toString('latin1'));
  for (let i = 0; i + 32 <= stored.length; i++) if (windows.has(stored.subarray(i, i + 32).toString('latin1'))) return true;
  return false;
}

describe('KMS encryption at rest e2e (aws kms, aws ecr, skopeo)', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let image: BuiltImage;
  let keyId = '';
  let keyArn = '';

  const kms = (...args: string[]) => awsCli(server, ['kms', ...args]);
  const ecr = (...args: string[]) => awsCli(server, ['ecr', ...args]);
  const skopeo = (...args: string[]): Promise<RunResult> => run('skopeo', args, { timeoutMs: 90_000 });
  const ref = (repo: string, tag: string) => `docker://${server.host}/${repo}:${tag}`;
  const dir = (name: string) => join(server.workDir, name);
  const push = async (img: BuiltImage, repo: string, tag: string) =>
    expectOk(await skopeo('copy', '--dest-tls-verify=false', `oci:${img.dir}:${img.refName}`, ref(repo, tag)), server);
  const pull = (repo: string, tag: string, to: string) => skopeo('copy', '--src-tls-verify=false', ref(repo, tag), `oci:${dir(to)}:x`);

  async function assertPulledIdentical(to: string, img: BuiltImage): Promise<void> {
    for (const d of [img.config.digest, ...img.layers.map((l) => l.digest)]) {
      const got = await readLayoutBlob(dir(to), d);
      assert.equal(sha256(got), d);
      assert.ok(got.equals(await readLayoutBlob(img.dir, d)));
    }
  }

  before(async () => {
    server = await BerthServer.start();
    image = await buildImageLayout(dir('src'), { layers: 3, filesPerLayer: 6 });
    const created = await awsJson<{ KeyMetadata: { KeyId: string; Arn: string; KeyState: string } }>(server, ['kms', 'create-key', '--description', 'e2e repository key']);
    keyId = created.KeyMetadata.KeyId;
    keyArn = created.KeyMetadata.Arn;
    assert.equal(created.KeyMetadata.KeyState, 'Enabled');
    expectOk(await kms('create-alias', '--alias-name', 'alias/e2e-app', '--target-key-id', keyId), server);
  });

  after(async () => {
    await server?.dispose();
  });

  it('creates a KMS-encrypted repository by alias; DescribeRepositories names the key by its ARN', async () => {
    const out = await awsJson<{ repository: { encryptionConfiguration: { encryptionType: string; kmsKey: string } } }>(server,
      ['ecr', 'create-repository', '--repository-name', 'enc/app', '--encryption-configuration', 'encryptionType=KMS,kmsKey=alias/e2e-app']);
    assert.deepEqual(out.repository.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyArn });
    const described = await awsJson<{ repositories: { encryptionConfiguration: unknown }[] }>(server, ['ecr', 'describe-repositories', '--repository-names', 'enc/app']);
    assert.deepEqual(described.repositories[0]?.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: keyArn });
  });

  it('skopeo pushes to and pulls from the KMS repository byte-identical', async () => {
    await push(image, 'enc/app', 'v1');
    expectOk(await pull('enc/app', 'v1', 'pull-1'), server);
    await assertPulledIdentical('pull-1', image);
  });

  it('on disk every stored blob is an envelope holding no 32-byte run of its plaintext', async () => {
    const plain = new Map<string, Buffer>();
    for (const d of [image.config.digest, ...image.layers.map((l) => l.digest)]) plain.set(d.split(':')[1]!, await readLayoutBlob(image.dir, d));
    const files = await filesUnder(join(server.dataDir, 'blobs'));
    let checked = 0;
    for (const file of files) {
      const hex = file.split('/').pop()!;
      const bytes = plain.get(hex);
      if (!bytes) continue;
      const stored = await readFile(file);
      assert.equal(stored.subarray(0, 8).toString('latin1'), 'BRTHENC1', `${file} is not an envelope`);
      assert.ok(!sharesA32ByteRun(bytes, stored), `${file} contains plaintext`);
      checked++;
    }
    assert.equal(checked, plain.size, 'every pushed blob was found on disk');
    // Nothing else on disk (staging, the metadata database) carries the layer plaintext either.
    for (const file of [...(await filesUnder(join(server.dataDir, 'uploads'))), join(server.dataDir, 'meta.db')]) {
      if (!(await stat(file).catch(() => undefined))) continue;
      const stored = await readFile(file);
      for (const [hex, bytes] of plain) assert.ok(!sharesA32ByteRun(bytes, stored), `${file} contains plaintext of ${hex}`);
    }
  });

  it('disabling the key stops pulls with an error naming the key, and pushes with KmsException', async () => {
    expectOk(await kms('disable-key', '--key-id', keyId), server);
    // The blob route answers 403 DENIED with the key in the message (skopeo itself prints only the status).
    const res = await server.fetch(`/v2/enc/app/blobs/${image.layers[0]!.digest}`);
    const body = await res.text();
    assert.equal(res.status, 403, body);
    assert.match(body, /DENIED/);
    assert.ok(body.includes(keyArn) && /disabled/.test(body), body);
    const failed = await pull('enc/app', 'v1', 'pull-disabled');
    assert.notEqual(failed.code, 0, describeRun(failed, server));
    assert.match(failed.stderr, /403/);
    // ECR layer API: the upload completes only when the data key can be wrapped.
    const init = await awsJson<{ uploadId: string }>(server, ['ecr', 'initiate-layer-upload', '--repository-name', 'enc/app']);
    const blob = Buffer.from('a layer pushed while the key is disabled\n');
    await writeBlobFile(dir('part.bin'), blob);
    expectOk(await ecr('upload-layer-part', '--repository-name', 'enc/app', '--upload-id', init.uploadId, '--part-first-byte', '0',
      '--part-last-byte', String(blob.length - 1), '--layer-part-blob', `fileb://${dir('part.bin')}`), server);
    const complete = await ecr('complete-layer-upload', '--repository-name', 'enc/app', '--upload-id', init.uploadId, '--layer-digests', sha256(blob));
    assert.equal(cliErrorName(complete), 'KmsException', describeRun(complete, server));
    assert.ok(complete.stderr.includes(keyArn), complete.stderr);
  });

  it('enabling the key restores pulls', async () => {
    expectOk(await kms('enable-key', '--key-id', keyId), server);
    expectOk(await pull('enc/app', 'v1', 'pull-2'), server);
    await assertPulledIdentical('pull-2', image);
  });

  it('after rotation old and new images both pull', async () => {
    expectOk(await kms('rotate-key-on-demand', '--key-id', keyId), server);
    const rotations = await awsJson<{ Rotations: { RotationType: string }[] }>(server, ['kms', 'list-key-rotations', '--key-id', keyId]);
    assert.deepEqual(rotations.Rotations.map((r) => r.RotationType), ['ON_DEMAND']);
    const v2 = await buildImageLayout(dir('src-v2'), { layers: 2 });
    await push(v2, 'enc/app', 'v2');
    expectOk(await pull('enc/app', 'v1', 'pull-old'), server);
    await assertPulledIdentical('pull-old', image);
    expectOk(await pull('enc/app', 'v2', 'pull-new'), server);
    await assertPulledIdentical('pull-new', v2);
  });

  it('KMS_DSSE (two layers) with the account aws/ecr key pushes and pulls', async () => {
    const out = await awsJson<{ repository: { encryptionConfiguration: { encryptionType: string; kmsKey: string } } }>(server,
      ['ecr', 'create-repository', '--repository-name', 'enc/dsse', '--encryption-configuration', 'encryptionType=KMS_DSSE']);
    assert.equal(out.repository.encryptionConfiguration.encryptionType, 'KMS_DSSE');
    const managed = await awsJson<{ KeyMetadata: { Arn: string; KeyManager: string } }>(server, ['kms', 'describe-key', '--key-id', 'alias/aws/ecr']);
    assert.equal(managed.KeyMetadata.KeyManager, 'AWS');
    assert.equal(out.repository.encryptionConfiguration.kmsKey, managed.KeyMetadata.Arn);
    await push(image, 'enc/dsse', 'v1');
    expectOk(await pull('enc/dsse', 'v1', 'pull-dsse'), server);
    await assertPulledIdentical('pull-dsse', image);
  });

  it('a copy into a repository with another configuration is uploaded, not mounted, and survives the source key being disabled', async () => {
    await server.ensureRepository('plain/app');
    expectOk(await skopeo('copy', '--src-tls-verify=false', '--dest-tls-verify=false', ref('enc/app', 'v1'), ref('plain/app', 'v1')), server);
    expectOk(await kms('disable-key', '--key-id', keyId), server);
    try {
      expectOk(await pull('plain/app', 'v1', 'pull-plain'), server);
      await assertPulledIdentical('pull-plain', image);
      assert.notEqual((await pull('enc/app', 'v1', 'pull-enc-off')).code, 0);
    } finally {
      expectOk(await kms('enable-key', '--key-id', keyId), server);
    }
  });

  it('CreateRepository refuses unusable keys with KmsException and a kmsKey with AES256', async () => {
    const sign = await awsJson<{ KeyMetadata: { KeyId: string } }>(server, ['kms', 'create-key', '--key-spec', 'ECC_NIST_P256', '--key-usage', 'SIGN_VERIFY']);
    const off = await awsJson<{ KeyMetadata: { KeyId: string } }>(server, ['kms', 'create-key']);
    expectOk(await kms('disable-key', '--key-id', off.KeyMetadata.KeyId), server);
    for (const [name, key] of [['bad/sign', sign.KeyMetadata.KeyId], ['bad/off', off.KeyMetadata.KeyId], ['bad/none', 'alias/does-not-exist']] as const) {
      const r = await ecr('create-repository', '--repository-name', name, '--encryption-configuration', `encryptionType=KMS,kmsKey=${key}`);
      assert.equal(cliErrorName(r), 'KmsException', describeRun(r, server));
    }
    const aes = await ecr('create-repository', '--repository-name', 'bad/aes', '--encryption-configuration', `encryptionType=AES256,kmsKey=${keyId}`);
    assert.equal(cliErrorName(aes), 'InvalidParameterException', describeRun(aes, server));
    const listed = await awsJson<{ repositories: { repositoryName: string }[] }>(server, ['ecr', 'describe-repositories']);
    assert.ok(!listed.repositories.some((r) => r.repositoryName.startsWith('bad/')), 'nothing was created');
  });

  it('a user allowed ecr:* but not kms:Decrypt cannot pull from the KMS repository; granting kms:Decrypt lets it', async () => {
    const root = JSON.parse(await readFile(join(server.dataDir, 'credentials'), 'utf8').then((t) => JSON.stringify(Object.fromEntries(
      [...t.matchAll(/^(aws_access_key_id|aws_secret_access_key)\s*=\s*(\S+)/gm)].map((m) => [m[1], m[2]]))))) as Record<string, string>;
    const rootKeys: AwsKeys = { accessKeyId: root.aws_access_key_id!, secretAccessKey: root.aws_secret_access_key! };
    const iam = iamClient(server, rootKeys);
    await iam.send(new CreateUserCommand({ UserName: 'puller' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'puller', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'puller' }));
    const userEcr = ecrClient(server, { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! });
    const password = await loginPassword(userEcr);
    const get = async (repo: string) => {
      const r = await server.fetch(`/v2/${repo}/blobs/${image.layers[0]!.digest}`, { headers: { authorization: basicAuth(password) } });
      return { status: r.status, body: await r.text() };
    };
    const denied = await get('enc/app');
    assert.equal(denied.status, 403, denied.body);
    assert.match(denied.body, /kms:Decrypt/);
    assert.equal((await get('plain/app')).status, 200, 'the same user pulls from a repository encrypted with the service key');
    await iam.send(new PutUserPolicyCommand({ UserName: 'puller', PolicyName: 'decrypt', PolicyDocument: JSON.stringify({
      Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn }],
    }) }));
    // Policies are cached for up to 5 s per node.
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      status = (await get('enc/app')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 200);
    iam.destroy();
    userEcr.destroy();
  });
});

async function writeBlobFile(path: string, bytes: Buffer): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, bytes);
}
