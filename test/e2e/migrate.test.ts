/**
 * `berth migrate --to target.yaml` (issue 11): a single-node data directory with an image (pushed
 * by skopeo) and an IAM user is copied into the stores another configuration names — PostgreSQL +
 * S3 (a fresh database and bucket) when the test servers are configured (.ci/run), else a second
 * data directory —
 * verified by digest, idempotent on a second run; a server on the target serves the same image to
 * skopeo and accepts the migrated user's key; fsck on the target is clean. A KMS-encrypted
 * repository holding the same blobs comes along with its key and alias: on the target its blobs
 * are wrapped under that key (disabling it there stops that repository's pulls, not the other's).
 * A lifecycle policy and an archived image's state come along too.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, AttachUserPolicyCommand } from '@aws-sdk/client-iam';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { buildImageLayout, readLayoutBlob, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { awsCli, awsJson } from './aws-helpers.js';
import { BerthServer, BERTH_ARGS, describeRun, expectOk, run, toolSkipReason } from './harness.js';
import { freshPostgres, freshS3, POSTGRES_SKIP, S3_SKIP, type TestPostgres } from '../support/servers.js';
import { deleteTestBucket, type TestBucket } from '../support/s3-buckets.js';

const skip = await toolSkipReason('skopeo');
const LIFECYCLE = JSON.stringify({ rules: [{ rulePriority: 1, description: 'expire old untagged', selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } }] });
/** PostgreSQL + S3 as the target when both test servers are there (CI); a second data directory otherwise. */
const sharedStores = POSTGRES_SKIP === undefined && S3_SKIP === undefined;
if (!sharedStores) console.log(`# target: a second data directory (PostgreSQL + S3 target not run: ${POSTGRES_SKIP ?? S3_SKIP})`);

describe('berth migrate --to', { skip: skip ?? false, timeout: 600_000 }, () => {
  let source: BerthServer;
  let target: BerthServer | undefined;
  let image: BuiltImage;
  let userKey: { accessKeyId: string; secretAccessKey: string };
  let keyArn: string;
  let pg: TestPostgres | undefined;
  let bucket: TestBucket | undefined;
  /** The target's stores as environment (what an operator's nodes would run with); empty for a data directory. */
  let targetEnv: NodeJS.ProcessEnv = {};
  const targetDir = () => join(source.root, 'target-data');
  const migrate = () => run(process.execPath, [...BERTH_ARGS, 'migrate', '--data-dir', source.dataDir, '--to', join(source.root, 'target.yaml')], { timeoutMs: 180_000 });

  before(async () => {
    source = await BerthServer.start();
    image = await buildImageLayout(join(source.workDir, 'src'), { layers: 3 });
    await source.ensureRepository('team/app');
    expectOk(await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, `docker://${source.host}/team/app:v1`], { timeoutMs: 120_000 }), source);
    const iam = new IAMClient({ endpoint: source.url, region: 'us-east-1', credentials: { ...source.rootKey }, maxAttempts: 1 });
    await iam.send(new CreateUserCommand({ UserName: 'ci' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'ci', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey!;
    userKey = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    iam.destroy();
    const created = await awsJson<{ KeyMetadata: { KeyId: string; Arn: string } }>(source, ['kms', 'create-key', '--description', 'migrated repository key']);
    keyArn = created.KeyMetadata.Arn;
    expectOk(await awsCli(source, ['kms', 'create-alias', '--alias-name', 'alias/migrated', '--target-key-id', created.KeyMetadata.KeyId]), source);
    expectOk(await awsCli(source, ['ecr', 'create-repository', '--repository-name', 'team/secret', '--encryption-configuration', 'encryptionType=KMS,kmsKey=alias/migrated']), source);
    expectOk(await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, `docker://${source.host}/team/secret:v1`], { timeoutMs: 120_000 }), source);
    // A lifecycle policy, and an archived image in a third repository.
    expectOk(await awsCli(source, ['ecr', 'put-lifecycle-policy', '--repository-name', 'team/app', '--lifecycle-policy-text', LIFECYCLE]), source);
    await source.ensureRepository('team/old');
    expectOk(await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, `docker://${source.host}/team/old:v1`], { timeoutMs: 120_000 }), source);
    expectOk(await awsCli(source, ['ecr', 'update-image-storage-class', '--repository-name', 'team/old', '--image-id', 'imageTag=v1', '--target-storage-class', 'ARCHIVE']), source);
    await source.stop();
    if (sharedStores) {
      pg = await freshPostgres();
      bucket = freshS3();
      await writeFile(join(source.root, 'target.yaml'), [
        `dataDir: ${targetDir()}`, 'storage:', '  meta: postgres', '  blob: s3', 'postgres:', `  url: ${pg.url}`,
        's3:', `  endpoint: ${bucket.endpoint}`, `  bucket: ${bucket.bucket}`, `  region: ${bucket.region}`,
        `  accessKeyId: ${bucket.accessKeyId}`, `  secretAccessKey: ${bucket.secretAccessKey}`, '',
      ].join('\n'));
      targetEnv = {
        BERTH_STORAGE_META: 'postgres', BERTH_POSTGRES_URL: pg.url, BERTH_STORAGE_BLOB: 's3', BERTH_S3_ENDPOINT: bucket.endpoint,
        BERTH_S3_BUCKET: bucket.bucket, BERTH_S3_REGION: bucket.region, BERTH_S3_ACCESS_KEY_ID: bucket.accessKeyId, BERTH_S3_SECRET_ACCESS_KEY: bucket.secretAccessKey,
      };
    } else {
      await writeFile(join(source.root, 'target.yaml'), `dataDir: ${targetDir()}\nstorage:\n  meta: sqlite\n  blob: fs\n`);
    }
  });
  after(async () => {
    await target?.dispose();
    await source?.dispose();
    if (bucket) await deleteTestBucket(bucket);
    await pg?.drop();
  });

  it('copies repositories, images, blobs (verified by digest) and identity, and reports it', async () => {
    const r = await migrate();
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /repositories: 3 copied/);
    assert.match(r.stdout, /manifests: 3 copied, 0 already there; tags set: 3/);
    // The KMS repository holds the same digests: already there, their data keys wrapped under its key as well.
    assert.match(r.stdout, /blobs: 4 copied \(\d+ bytes, verified by digest\), 8 already there/);
    assert.match(r.stdout, /users: 1 copied; access keys: 2 copied/);
    assert.match(r.stdout, /kms keys: 1 copied; aliases: 1 copied/);
    assert.match(r.stdout, /lifecycle policies: 1 copied; archive states: 1 copied/);
  });

  it('a second run copies nothing and finds everything already there', async () => {
    const r = await migrate();
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /repositories: 0 copied, 3 already there/);
    assert.match(r.stdout, /manifests: 0 copied, 3 already there; tags set: 0/);
    assert.match(r.stdout, /blobs: 0 copied \(0 bytes, verified by digest\), 0 already there/);
    assert.match(r.stdout, /users: 0 copied; access keys: 0 copied/);
    assert.match(r.stdout, /kms keys: 0 copied; aliases: 0 copied/);
    assert.match(r.stdout, /lifecycle policies: 0 copied; archive states: 0 copied/);
  });

  it('a server on the target serves the image to skopeo and accepts the migrated keys; fsck is clean', async () => {
    const masterKey = (await readFile(join(source.dataDir, 'master.key'), 'utf8')).trim();
    await mkdir(targetDir(), { recursive: true });
    await copyFile(join(source.dataDir, 'credentials'), join(targetDir(), 'credentials'));
    target = await BerthServer.start({ dataDir: targetDir(), env: { BERTH_MASTER_KEY: masterKey, ...targetEnv } });
    const pulled = join(target.workDir, 'pulled');
    expectOk(await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${target.host}/team/app:v1`, `oci:${pulled}:v1`], { timeoutMs: 120_000 }), target);
    for (const d of [image.manifest.digest, image.config.digest, ...image.layers.map((l) => l.digest)]) assert.equal(sha256(await readLayoutBlob(pulled, d)), d);
    const ecr = new ECRClient({ endpoint: target.url, region: 'us-east-1', credentials: { ...userKey }, maxAttempts: 1 });
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    assert.ok(token.authorizationData?.[0]?.authorizationToken, 'the migrated user key signs requests on the target');
    ecr.destroy();
    // The KMS repository: served under its migrated key (found by its alias), refused once the key is disabled there.
    const pulledSecret = join(target.workDir, 'pulled-secret');
    expectOk(await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${target.host}/team/secret:v1`, `oci:${pulledSecret}:v1`], { timeoutMs: 120_000 }), target);
    for (const d of image.layers.map((l) => l.digest)) assert.equal(sha256(await readLayoutBlob(pulledSecret, d)), d);
    const alias = await awsJson<{ KeyMetadata: { Arn: string; KeyState: string } }>(target, ['kms', 'describe-key', '--key-id', 'alias/migrated']);
    assert.deepEqual([alias.KeyMetadata.Arn, alias.KeyMetadata.KeyState], [keyArn, 'Enabled']);
    expectOk(await awsCli(target, ['kms', 'disable-key', '--key-id', keyArn]), target);
    const refused = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${target.host}/team/secret:v1`, `oci:${join(target.workDir, 'refused')}:v1`], { timeoutMs: 120_000 });
    assert.notEqual(refused.code, 0, 'a pull from the KMS repository succeeded with its key disabled on the target');
    expectOk(await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${target.host}/team/app:v1`, `oci:${join(target.workDir, 'still')}:v1`], { timeoutMs: 120_000 }), target);
    expectOk(await awsCli(target, ['kms', 'enable-key', '--key-id', keyArn]), target);
    // The lifecycle policy and the archived image came along.
    const policy = await awsJson<{ lifecyclePolicyText: string }>(target, ['ecr', 'get-lifecycle-policy', '--repository-name', 'team/app']);
    assert.deepEqual(JSON.parse(policy.lifecyclePolicyText), JSON.parse(LIFECYCLE));
    const old = await awsJson<{ imageDetails: { imageStatus: string }[] }>(target, ['ecr', 'describe-images', '--repository-name', 'team/old']);
    assert.deepEqual(old.imageDetails.map((d) => d.imageStatus), ['ARCHIVED']);
    const fsck = await run(process.execPath, [...BERTH_ARGS, 'fsck', '--data-dir', targetDir()], { timeoutMs: 120_000, env: { ...process.env, ...targetEnv, BERTH_MASTER_KEY: masterKey } });
    assert.equal(fsck.code, 0, describeRun(fsck));
    assert.match(fsck.stdout, /result: consistent/);
  });
});
