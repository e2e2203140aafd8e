/**
 * Lifecycle policies end to end: skopeo pushes images with tags, their push times are set back by
 * writing old timestamps through the metadata file (the server reads them like any other row), the
 * real `aws ecr` CLI puts a policy, previews it, waits with `aws ecr wait
 * lifecycle-policy-preview-complete` and pages the preview; `berth lifecycle run` applies it and
 * `berth gc` frees the blobs. Exactly the previewed images are gone, their unique blobs deleted,
 * everything else pulls back byte-identical and `berth fsck` stays clean.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildImageLayout, readLayoutBlob, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { awsCli, awsJson, cliErrorName } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, describeRun, expectOk, run, toolSkipReason } from './harness.js';

const skip = (await toolSkipReason('aws')) ?? (await toolSkipReason('skopeo'));
const DAY = 86_400_000;
const REPO = 'lc/app';

interface PreviewResult { imageDigest: string; imageTags?: string[]; action: { type: string }; appliedRulePriority: number; storageClass: string; imagePushedAt: number }
interface Preview { status: string; lifecyclePolicyText: string; previewResults: PreviewResult[]; summary?: { expiringImageTotalCount: number }; nextToken?: string }

describe('lifecycle policies with the aws CLI, skopeo and berth lifecycle/gc', { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: BerthServer;
  const images = new Map<string, BuiltImage>();
  const ecr = <T = Record<string, unknown>>(...args: string[]) => awsJson<T>(server, ['ecr', ...args]);
  const skopeo = async (...args: string[]) => expectOk(await run('skopeo', args, { timeoutMs: 60_000 }), server);
  const berth = async (...args: string[]) => run(process.execPath, [...BERTH_ARGS, ...args, '--data-dir', server.dataDir], { timeoutMs: 60_000 });

  /** Pushes a fresh image under `tag` with skopeo and returns it. */
  async function push(name: string, tag: string): Promise<BuiltImage> {
    const img = await buildImageLayout(join(server.workDir, name), { layers: 2 });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${img.dir}:${img.refName}`, `docker://${server.host}/${REPO}:${tag}`);
    images.set(name, img);
    return img;
  }

  /** Sets an image's push time `days` ago, through the metadata file the server shares. */
  function age(img: BuiltImage, days: number): void {
    const db = new Database(join(server.dataDir, 'meta.db'));
    try {
      db.pragma('busy_timeout = 5000');
      const n = db.prepare('UPDATE manifests SET pushed_at = ? WHERE digest = ?').run(Date.now() - days * DAY, img.manifest.digest).changes;
      assert.equal(n, 1);
    } finally {
      db.close();
    }
  }

  const blobPath = (digest: string) => join(server.dataDir, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  const uniqueBlobs = (img: BuiltImage) => [img.manifest.digest, img.config.digest, ...img.layers.map((l) => l.digest)];

  const policy = JSON.stringify({
    rules: [
      { rulePriority: 1, description: 'keep the newest prod image', selection: { tagStatus: 'tagged', tagPatternList: ['prod-*'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      { rulePriority: 2, description: 'untagged older than a week', selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } },
    ],
  });
  let policyFile: string;

  before(async () => {
    server = await BerthServer.start({ env: { BERTH_LIFECYCLE_INTERVAL_MINUTES: '0', BERTH_GC_INTERVAL_MINUTES: '0' } });
    await server.ensureRepository(REPO);
    age(await push('prod1', 'prod-1'), 40);
    age(await push('prod2', 'prod-2'), 30);
    age(await push('prod3', 'prod-3'), 1);
    age(await push('dev1', 'dev-1'), 20);
    age(await push('old-untagged', 'scratch'), 10);
    age(await push('new-untagged', 'scratch'), 3); // moves `scratch`: old-untagged is untagged now
    age(await push('current', 'scratch'), 0); // new-untagged is untagged too, but only 3 days old
    policyFile = join(server.workDir, 'policy.json');
    await writeFile(policyFile, policy);
  });
  after(async () => {
    await server?.dispose();
  });

  it('put-lifecycle-policy stores the policy; get-lifecycle-policy returns it', async () => {
    const put = await ecr<{ repositoryName: string; lifecyclePolicyText: string }>('put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', `file://${policyFile}`);
    assert.equal(put.repositoryName, REPO);
    assert.deepEqual(JSON.parse(put.lifecyclePolicyText), JSON.parse(policy));
    const got = await ecr<{ lifecyclePolicyText: string; lastEvaluatedAt?: number }>('get-lifecycle-policy', '--repository-name', REPO);
    assert.equal(got.lifecyclePolicyText, put.lifecyclePolicyText);
    assert.equal(got.lastEvaluatedAt, undefined);
  });

  it('an invalid policy is refused with InvalidParameterException naming the rule and field', async () => {
    const bad = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }, { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] });
    const r = await awsCli(server, ['ecr', 'put-lifecycle-policy', '--repository-name', REPO, '--lifecycle-policy-text', bad]);
    assert.notEqual(r.code, 0, describeRun(r, server));
    assert.equal(cliErrorName(r), 'InvalidParameterException');
    assert.match(r.stderr, /Rule for tagStatus=ANY must have the lowest priority per storage class \(rule with rulePriority 1\)/);
    const got = await ecr<{ lifecyclePolicyText: string }>('get-lifecycle-policy', '--repository-name', REPO);
    assert.deepEqual(JSON.parse(got.lifecyclePolicyText), JSON.parse(policy), 'a refused policy replaced the stored one');
  });

  let previewed: string[] = [];
  it('start-lifecycle-policy-preview, wait lifecycle-policy-preview-complete, and a paged preview name exactly prod-1, prod-2 and the old untagged image', async () => {
    const started = await ecr<{ status: string }>('start-lifecycle-policy-preview', '--repository-name', REPO);
    assert.ok(['IN_PROGRESS', 'COMPLETE'].includes(started.status));
    const waited = await awsCli(server, ['ecr', 'wait', 'lifecycle-policy-preview-complete', '--repository-name', REPO]);
    assert.equal(waited.code, 0, describeRun(waited, server));
    const all = await ecr<Preview>('get-lifecycle-policy-preview', '--repository-name', REPO);
    assert.equal(all.status, 'COMPLETE');
    assert.equal(all.summary?.expiringImageTotalCount, 3);
    const expected = new Map([[images.get('prod1')!.manifest.digest, 1], [images.get('prod2')!.manifest.digest, 1], [images.get('old-untagged')!.manifest.digest, 2]]);
    assert.deepEqual(new Map(all.previewResults.map((p) => [p.imageDigest, p.appliedRulePriority])), expected);
    for (const p of all.previewResults) {
      assert.equal(p.action.type, 'EXPIRE');
      assert.equal(p.storageClass, 'STANDARD');
    }
    assert.deepEqual(all.previewResults.find((p) => p.imageDigest === images.get('prod1')!.manifest.digest)?.imageTags, ['prod-1']);
    previewed = [...expected.keys()];

    // One result per page: the CLI follows nextToken; the summary rides on every page.
    const paged = await ecr<Preview>('get-lifecycle-policy-preview', '--repository-name', REPO, '--page-size', '1');
    assert.deepEqual(paged.previewResults.map((p) => p.imageDigest), all.previewResults.map((p) => p.imageDigest));
    const untagged = await ecr<Preview>('get-lifecycle-policy-preview', '--repository-name', REPO, '--filter', 'tagStatus=UNTAGGED');
    assert.deepEqual(untagged.previewResults.map((p) => p.imageDigest), [images.get('old-untagged')!.manifest.digest]);
  });

  it('berth lifecycle run --dry-run lists the same images and deletes nothing', async () => {
    const r = await berth('lifecycle', 'run', '--repository', REPO, '--dry-run', '--json');
    assert.equal(r.code, 0, describeRun(r, server));
    const runs = JSON.parse(r.stdout) as { actions: { digest: string }[]; expired: number }[];
    assert.deepEqual(runs[0]!.actions.map((a) => a.digest).sort(), [...previewed].sort());
    assert.equal(runs[0]!.expired, 0);
    const { imageDetails } = await ecr<{ imageDetails: unknown[] }>('describe-images', '--repository-name', REPO);
    assert.equal(imageDetails.length, 7);
  });

  it('berth lifecycle run expires exactly the previewed images through BatchDeleteImage and records lastEvaluatedAt', async () => {
    const r = await berth('lifecycle', 'run', '--repository', REPO);
    assert.equal(r.code, 0, describeRun(r, server));
    assert.match(r.stdout, /lc\/app: did expire 3, did archive 0/);
    const { imageDetails } = await ecr<{ imageDetails: { imageDigest: string }[] }>('describe-images', '--repository-name', REPO);
    const left = imageDetails.map((d) => d.imageDigest).sort();
    const expectedLeft = [...images.entries()].filter(([, img]) => !previewed.includes(img.manifest.digest)).map(([, img]) => img.manifest.digest).sort();
    assert.deepEqual(left, expectedLeft);
    const got = await ecr<{ lastEvaluatedAt?: number }>('get-lifecycle-policy', '--repository-name', REPO);
    assert.ok(got.lastEvaluatedAt && Math.abs(got.lastEvaluatedAt * 1000 - Date.now()) < 120_000, `lastEvaluatedAt ${got.lastEvaluatedAt}`);
    for (const d of previewed) {
      const res = await server.fetch(`/v2/${REPO}/manifests/${d}`, { method: 'HEAD' });
      assert.equal(res.status, 404);
    }
  });

  it('berth gc frees the expired images\' blobs, keeps everything else pullable byte-identical, and fsck stays clean', async () => {
    const dry = await berth('gc', '--dry-run', '--grace-seconds', '0', '--json');
    assert.equal(dry.code, 0, describeRun(dry, server));
    const would = JSON.parse(dry.stdout) as { blobsDeleted: number; bytesReclaimed: number };
    // Each expired image had 2 layers and a config of its own (the manifest lives in metadata only).
    assert.equal(would.blobsDeleted, 9);
    for (const d of previewed) for (const b of uniqueBlobs([...images.values()].find((i) => i.manifest.digest === d)!).slice(1)) assert.ok(existsSync(blobPath(b)), 'dry run deleted a blob');

    const real = await berth('gc', '--grace-seconds', '0');
    assert.equal(real.code, 0, describeRun(real, server));
    assert.match(real.stdout, /blobs freed: 9 \(\d+ bytes/);
    for (const [name, img] of images) {
      const expired = previewed.includes(img.manifest.digest);
      for (const b of uniqueBlobs(img).slice(1)) assert.equal(existsSync(blobPath(b)), !expired, `${name} blob ${b}`);
      if (expired) continue;
      const out = join(server.workDir, `pull-${name}`);
      await skopeo('copy', '--src-tls-verify=false', `docker://${server.host}/${REPO}@${img.manifest.digest}`, `oci:${out}:x`);
      for (const b of uniqueBlobs(img)) assert.equal(sha256(await readLayoutBlob(out, b)), b);
      for (const b of uniqueBlobs(img)) assert.ok((await readLayoutBlob(out, b)).equals(await readLayoutBlob(img.dir, b)));
    }
    const fsck = await berth('fsck');
    assert.equal(fsck.code, 0, describeRun(fsck, server));
    assert.match(fsck.stdout, /orphans: 0/);
  });

  it('delete-lifecycle-policy removes it; then get and start-preview answer LifecyclePolicyNotFoundException', async () => {
    const del = await ecr<{ lifecyclePolicyText: string; lastEvaluatedAt?: number }>('delete-lifecycle-policy', '--repository-name', REPO);
    assert.deepEqual(JSON.parse(del.lifecyclePolicyText), JSON.parse(policy));
    assert.ok(del.lastEvaluatedAt);
    for (const op of ['get-lifecycle-policy', 'delete-lifecycle-policy', 'start-lifecycle-policy-preview']) {
      const r = await awsCli(server, ['ecr', op, '--repository-name', REPO]);
      assert.equal(cliErrorName(r), 'LifecyclePolicyNotFoundException', describeRun(r, server));
    }
  });

  it('a repository never previewed answers LifecyclePolicyPreviewNotFoundException; an unknown one RepositoryNotFoundException', async () => {
    await server.ensureRepository('lc/other');
    const r = await awsCli(server, ['ecr', 'get-lifecycle-policy-preview', '--repository-name', 'lc/other']);
    assert.equal(cliErrorName(r), 'LifecyclePolicyPreviewNotFoundException', describeRun(r, server));
    const missing = await awsCli(server, ['ecr', 'put-lifecycle-policy', '--repository-name', 'lc/none', '--lifecycle-policy-text', policy]);
    assert.equal(cliErrorName(missing), 'RepositoryNotFoundException');
  });
});
