/**
 * The archive storage class and pull-time exclusions end to end, with the `aws` CLI and skopeo:
 * UpdateImageStorageClass and a lifecycle `transition` archive images (listed ARCHIVED, not
 * pullable: skopeo gets a clear error, BatchGetImage a failure), a restore makes them pullable
 * byte-identical again; pulls by a principal registered with RegisterPullTimeUpdateExclusion do not
 * move lastRecordedPullTime, pulls by others do.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildImageLayout, readLayoutBlob, type BuiltImage } from '../fixtures/oci-image.js';
import { awsCli, awsJson, cliErrorName, writeCredentialsFile } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, describeRun, expectOk, run, sleep, toolSkipReason } from './harness.js';

const skip = (await toolSkipReason('aws')) ?? (await toolSkipReason('skopeo'));
const REPO = 'arc/app';
const DAY = 86_400_000;

interface Detail { imageDigest: string; imageStatus: string; lastArchivedAt?: number; lastActivatedAt?: number; lastRecordedPullTime?: number }

describe('archive storage class and pull-time exclusions (aws CLI, skopeo)', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let a: BuiltImage;
  let b: BuiltImage;
  const ecr = <T = Record<string, unknown>>(...args: string[]) => awsJson<T>(server, ['ecr', ...args]);
  const skopeo = (...args: string[]) => run('skopeo', args, { timeoutMs: 60_000 });
  const detail = async (img: BuiltImage): Promise<Detail> =>
    (await ecr<{ imageDetails: Detail[] }>('describe-images', '--repository-name', REPO, '--image-ids', `imageDigest=${img.manifest.digest}`)).imageDetails[0]!;

  async function pullsBack(img: BuiltImage, name: string): Promise<void> {
    const out = join(server.workDir, name);
    expectOk(await skopeo('copy', '--src-tls-verify=false', `docker://${server.host}/${REPO}@${img.manifest.digest}`, `oci:${out}:x`), server);
    for (const d of [img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest)]) {
      assert.ok((await readLayoutBlob(out, d)).equals(await readLayoutBlob(img.dir, d)), `blob ${d} differs`);
    }
  }

  before(async () => {
    server = await BerthServer.start({ env: { BERTH_GC_INTERVAL_MINUTES: '0', BERTH_LIFECYCLE_INTERVAL_MINUTES: '0' } });
    await server.ensureRepository(REPO);
    a = await buildImageLayout(join(server.workDir, 'a'), { layers: 1 });
    b = await buildImageLayout(join(server.workDir, 'b'), { layers: 1 });
    expectOk(await skopeo('copy', '--dest-tls-verify=false', `oci:${a.dir}:${a.refName}`, `docker://${server.host}/${REPO}:v1`), server);
    expectOk(await skopeo('copy', '--dest-tls-verify=false', `oci:${b.dir}:${b.refName}`, `docker://${server.host}/${REPO}:v2`), server);
  });
  after(async () => {
    await server?.dispose();
  });

  it('update-image-storage-class ARCHIVE: listed ARCHIVED with lastArchivedAt, refused to skopeo with a clear error and to batch-get-image as ImageInaccessible', async () => {
    const out = await ecr<{ imageStatus: string; imageId: { imageDigest: string } }>('update-image-storage-class', '--repository-name', REPO, '--image-id', 'imageTag=v1', '--target-storage-class', 'ARCHIVE');
    assert.equal(out.imageStatus, 'ARCHIVED');
    assert.equal(out.imageId.imageDigest, a.manifest.digest);
    const d = await detail(a);
    assert.equal(d.imageStatus, 'ARCHIVED');
    assert.ok(d.lastArchivedAt && Math.abs(d.lastArchivedAt * 1000 - Date.now()) < 120_000);
    assert.equal((await detail(b)).imageStatus, 'ACTIVE');

    const pull = await skopeo('copy', '--src-tls-verify=false', `docker://${server.host}/${REPO}:v1`, `oci:${join(server.workDir, 'refused')}:x`);
    assert.notEqual(pull.code, 0, describeRun(pull, server));
    assert.match(pull.stderr, /archived and cannot be pulled/);
    const res = await server.fetch(`/v2/${REPO}/manifests/v1`);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'DENIED');

    const got = await ecr<{ images: unknown[]; failures: { failureCode: string; failureReason: string }[] }>('batch-get-image', '--repository-name', REPO, '--image-ids', 'imageTag=v1');
    assert.deepEqual(got.images, []);
    assert.equal(got.failures[0]!.failureCode, 'ImageInaccessible');
    await pullsBack(b, 'b-still');
  });

  it('update-image-storage-class STANDARD answers ACTIVATING; the image is ACTIVE with lastActivatedAt and pulls back byte-identical', async () => {
    const out = await ecr<{ imageStatus: string }>('update-image-storage-class', '--repository-name', REPO, '--image-id', `imageDigest=${a.manifest.digest}`, '--target-storage-class', 'STANDARD');
    assert.equal(out.imageStatus, 'ACTIVATING');
    const d = await detail(a);
    assert.equal(d.imageStatus, 'ACTIVE');
    assert.ok(d.lastActivatedAt && d.lastArchivedAt && d.lastActivatedAt >= d.lastArchivedAt);
    await pullsBack(a, 'a-restored');
    const missing = await awsCli(server, ['ecr', 'update-image-storage-class', '--repository-name', REPO, '--image-id', 'imageTag=nope', '--target-storage-class', 'ARCHIVE']);
    assert.equal(cliErrorName(missing), 'ImageNotFoundException', describeRun(missing, server));
  });

  it('a lifecycle transition rule archives old images: the preview says TRANSITION, berth lifecycle run archives exactly those', async () => {
    const db = new Database(join(server.dataDir, 'meta.db'));
    db.pragma('busy_timeout = 5000');
    db.prepare('UPDATE manifests SET pushed_at = ? WHERE digest = ?').run(Date.now() - 40 * DAY, b.manifest.digest);
    db.close();
    const policy = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'transition', targetStorageClass: 'archive' } }] });
    await ecr('put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', policy);
    await ecr('start-lifecycle-policy-preview', '--repository-name', REPO);
    expectOk(await awsCli(server, ['ecr', 'wait', 'lifecycle-policy-preview-complete', '--repository-name', REPO]), server);
    const preview = await ecr<{ previewResults: { imageDigest: string; action: { type: string; targetStorageClass?: string } }[]; summary: { expiringImageTotalCount: number; transitioningImageTotalCounts?: { targetStorageClass: string; imageTotalCount: number }[] } }>('get-lifecycle-policy-preview', '--repository-name', REPO);
    assert.deepEqual(preview.previewResults.map((r) => [r.imageDigest, r.action]), [[b.manifest.digest, { type: 'TRANSITION', targetStorageClass: 'ARCHIVE' }]]);
    assert.deepEqual(preview.summary, { expiringImageTotalCount: 0, transitioningImageTotalCounts: [{ targetStorageClass: 'ARCHIVE', imageTotalCount: 1 }] });
    const r = await run(process.execPath, [...BERTH_ARGS, 'lifecycle', 'run', '--data-dir', server.dataDir], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, describeRun(r, server));
    assert.match(r.stdout, /did archive 1/);
    assert.equal((await detail(b)).imageStatus, 'ARCHIVED');
    assert.equal((await detail(a)).imageStatus, 'ACTIVE');
  });

  it('pulls by a principal registered with register-pull-time-update-exclusion leave lastRecordedPullTime alone; others move it', async () => {
    const iam = (...args: string[]) => awsJson<Record<string, unknown>>(server, ['iam', ...args]);
    await iam('create-user', '--user-name', 'scanner');
    await iam('attach-user-policy', '--user-name', 'scanner', '--policy-arn', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly');
    const key = (await iam('create-access-key', '--user-name', 'scanner')).AccessKey as { AccessKeyId: string; SecretAccessKey: string };
    const creds = await writeCredentialsFile(server, 'scanner', { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
    const arn = `arn:aws:iam::000000000000:user/scanner`;

    const reg = await ecr<{ principalArn: string; createdAt: number }>('register-pull-time-update-exclusion', '--principal-arn', arn);
    assert.equal(reg.principalArn, arn);
    const again = await awsCli(server, ['ecr', 'register-pull-time-update-exclusion', '--principal-arn', arn]);
    assert.equal(cliErrorName(again), 'ExclusionAlreadyExistsException', describeRun(again, server));
    assert.deepEqual((await ecr<{ pullTimeUpdateExclusions: string[] }>('list-pull-time-update-exclusions')).pullTimeUpdateExclusions, [arn]);

    // A fresh, never-pulled image: pull times are throttled to one write a minute per image.
    const c = await buildImageLayout(join(server.workDir, 'c'), { layers: 1 });
    expectOk(await skopeo('copy', '--dest-tls-verify=false', `oci:${c.dir}:${c.refName}`, `docker://${server.host}/${REPO}:v3`), server);
    const before = (await detail(c)).lastRecordedPullTime;
    assert.equal(before, undefined);
    const pulled = await awsJson<{ images: unknown[] }>(server, ['ecr', 'batch-get-image', '--repository-name', REPO, '--image-ids', `imageDigest=${c.manifest.digest}`], { credentialsFile: creds });
    assert.equal(pulled.images.length, 1);
    await sleep(500);
    assert.equal((await detail(c)).lastRecordedPullTime, before, 'an excluded principal moved lastRecordedPullTime');

    await ecr('deregister-pull-time-update-exclusion', '--principal-arn', arn);
    const gone = await awsCli(server, ['ecr', 'deregister-pull-time-update-exclusion', '--principal-arn', arn]);
    assert.equal(cliErrorName(gone), 'ExclusionNotFoundException', describeRun(gone, server));
    await awsJson(server, ['ecr', 'batch-get-image', '--repository-name', REPO, '--image-ids', `imageDigest=${c.manifest.digest}`], { credentialsFile: creds });
    for (let i = 0; i < 20 && (await detail(c)).lastRecordedPullTime === before; i++) await sleep(250);
    const after = (await detail(c)).lastRecordedPullTime;
    assert.ok(after !== undefined && after !== before && Math.abs(after * 1000 - Date.now()) < 120_000, `lastRecordedPullTime ${after}`);
  });
});
