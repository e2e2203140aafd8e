/**
 * `storage.redirect` on S3 (Ceph RGW) end to end, with real clients. An image pushed to an AES256
 * repository is stored as plain objects and pulled by skopeo and podman through 307 redirects to
 * presigned RGW URLs (seen in berth's access log and on a raw GET), and `aws ecr
 * get-download-url-for-layer` hands out an RGW URL whose bytes hash right. A KMS repository in the
 * same registry stores envelopes, is served by berth (200, never 307) and refused while its key is
 * disabled. Pushing the AES256 image's content to the KMS repository turns those objects into
 * envelopes: the AES256 repository then reads them through berth, and keeps reading them while the
 * KMS key is disabled; the ECR layer API takes the same path. Redirects still need credentials,
 * and `berth fsck` is clean in this mode.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { bodyBytes, makeS3Client } from '../../src/storage/blob/s3/s3-client.js';
import { buildImageLayout, readLayoutBlob, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { deleteTestBucket, type TestBucket } from '../support/s3-buckets.js';
import { freshS3, S3_SKIP, skipReason } from '../support/servers.js';
import { awsCli, awsJson } from './aws-helpers.js';
import { BERTH_ARGS, BerthServer, expectOk, run, toolSkipReason, type RunResult } from './harness.js';

const skip = skipReason(S3_SKIP) || ((await toolSkipReason('skopeo')) ?? (await toolSkipReason('aws')) ?? false);

describe('storage.redirect on S3: AES256 repositories redirected, KMS repositories served by berth', { skip, timeout: 900_000 }, () => {
  let server: BerthServer;
  let bucket: TestBucket;
  let plainImage: BuiltImage;
  let kmsImage: BuiltImage;
  let keyId = '';
  let keyArn = '';
  let podStorage = '';
  let podmanUsable: string | undefined;
  const env = (): NodeJS.ProcessEnv => ({
    BERTH_STORAGE_BLOB: 's3', BERTH_S3_ENDPOINT: bucket.endpoint, BERTH_S3_BUCKET: bucket.bucket, BERTH_S3_REGION: bucket.region,
    BERTH_S3_ACCESS_KEY_ID: bucket.accessKeyId, BERTH_S3_SECRET_ACCESS_KEY: bucket.secretAccessKey, BERTH_S3_PREFIX: 'reg/',
    BERTH_STORAGE_REDIRECT: 'true',
  });
  const skopeo = async (...args: string[]) => expectOk(await run('skopeo', args, { timeoutMs: 300_000 }), server);
  const ref = (repo: string, tag: string) => `docker://${server.host}/${repo}:${tag}`;
  const podman = (...args: string[]): Promise<RunResult> => run('podman', [
    '--root', join(podStorage, 'root'), '--runroot', join(podStorage, 'run'), '--tmpdir', join(podStorage, 'tmp'),
    '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args,
  ], { timeoutMs: 180_000 });
  /** The stored object of a blob, straight from the bucket. */
  const stored = async (digest: string): Promise<Buffer> => {
    const client = makeS3Client({ ...bucket, prefix: '', forcePathStyle: true });
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: `reg/blobs/sha256/${digest.slice(7)}` }));
      return await bodyBytes(res.Body);
    } finally {
      client.destroy();
    }
  };
  const isEnvelope = (b: Buffer) => b.subarray(0, 8).toString('latin1') === 'BRTHENC1';
  /** Blob GETs berth answered, from its access log: path → statuses. */
  const blobAnswers = (repo: string): Map<string, number[]> => {
    const out = new Map<string, number[]>();
    for (const line of server.log().split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number };
      if (entry.msg !== 'request' || entry.method !== 'GET' || !entry.path?.startsWith(`/v2/${repo}/blobs/sha256:`)) continue;
      const digest = entry.path.slice(`/v2/${repo}/blobs/`.length);
      out.set(digest, [...(out.get(digest) ?? []), entry.status ?? 0]);
    }
    return out;
  };
  /** {@link blobAnswers} once every digest has at least `count` answers logged (log lines are flushed every 250 ms). */
  const answersFor = async (repo: string, digests: string[], count = 1): Promise<Map<string, number[]>> => {
    for (let i = 0; ; i++) {
      const answers = blobAnswers(repo);
      if (digests.every((d) => (answers.get(d)?.length ?? 0) >= count) || i === 20) return answers;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const imageDigests = (img: BuiltImage) => [img.config.digest, ...img.layers.map((l) => l.digest)];
  /** A raw blob GET that does not follow redirects. */
  const rawGet = (repo: string, digest: string, init: { anonymous?: boolean } = {}) => server.fetch(`/v2/${repo}/blobs/${digest}`, { redirect: 'manual', ...init });

  before(async () => {
    bucket = freshS3();
    server = await BerthServer.start({ env: env() });
    plainImage = await buildImageLayout(join(server.workDir, 'plain'), { layers: 2, filesPerLayer: 40 });
    kmsImage = await buildImageLayout(join(server.workDir, 'kms'), { layers: 2, filesPerLayer: 40 });
    await server.ensureRepository('plain/app');
    const created = await awsJson<{ KeyMetadata: { KeyId: string; Arn: string } }>(server, ['kms', 'create-key', '--description', 'redirect e2e']);
    keyId = created.KeyMetadata.KeyId;
    keyArn = created.KeyMetadata.Arn;
    await awsJson(server, ['ecr', 'create-repository', '--repository-name', 'kms/app', '--encryption-configuration', `encryptionType=KMS,kmsKey=${keyArn}`]);
    podStorage = join(tmpdir(), `berth-e2e-redirect-${randomBytes(6).toString('hex')}`);
    await mkdir(podStorage, { recursive: true });
    const info = await podman('info', '--format', '{{.Store.GraphDriverName}}');
    if (info.code !== 0) podmanUsable = `podman cannot run in this environment: ${(info.stderr || info.stdout).trim().split('\n').pop()}`;
  });

  after(async () => {
    if (podStorage) {
      await podman('rmi', '-af').catch(() => undefined);
      await rm(podStorage, { recursive: true, force: true });
    }
    await server?.dispose();
    if (bucket) await deleteTestBucket(bucket);
  });

  it('says once at start-up that AES256 repositories\' blobs are encrypted at rest by the object store', () => {
    const lines = server.log().split('\n').filter((l) => /encrypted at rest by the object store/.test(l));
    assert.equal(lines.length, 1, server.log());
    assert.match(lines[0]!, /s3\.serverSideEncryption: none/);
  });

  it('skopeo pushes to an AES256 repository: plain objects in the bucket; skopeo pulls it through 307s to RGW', async () => {
    await skopeo('copy', '--dest-tls-verify=false', `oci:${plainImage.dir}:${plainImage.refName}`, ref('plain/app', 'v1'));
    for (const d of imageDigests(plainImage)) assert.equal(sha256(await stored(d)), d, `${d} is stored as the plain object`);
    const pulled = join(server.workDir, 'pull-skopeo');
    await skopeo('copy', '--src-tls-verify=false', ref('plain/app', 'v1'), `oci:${pulled}:v1`);
    for (const d of imageDigests(plainImage)) assert.equal(sha256(await readLayoutBlob(pulled, d)), d);
    const answers = await answersFor('plain/app', imageDigests(plainImage));
    for (const d of imageDigests(plainImage)) assert.deepEqual(answers.get(d), [307], `berth answered GET of ${d} with a redirect`);
  });

  it('a raw blob GET answers 307 with a presigned RGW Location (HEAD stays 200 locally); the URL serves the right bytes', async () => {
    const layer = plainImage.layers[0]!;
    const head = await server.fetch(`/v2/plain/app/blobs/${layer.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(layer.size));
    const res = await rawGet('plain/app', layer.digest);
    assert.equal(res.status, 307);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin, new URL(bucket.endpoint).origin, 'redirected to the object store');
    assert.equal(location.pathname, `/${bucket.bucket}/reg/blobs/sha256/${layer.digest.slice(7)}`);
    assert.ok(location.searchParams.get('X-Amz-Signature'), 'a presigned URL');
    assert.equal(res.headers.get('docker-content-digest'), layer.digest);
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.equal(sha256(Buffer.from(await direct.arrayBuffer())), layer.digest);
  });

  it('a redirect still needs credentials: an anonymous GET is refused without a Location', async () => {
    const res = await rawGet('plain/app', plainImage.layers[0]!.digest, { anonymous: true });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('location'), null);
  });

  it('podman pulls the AES256 image following the redirects', async (t) => {
    if (podmanUsable) return t.skip(podmanUsable);
    const layer = plainImage.layers[1]!.digest;
    const before = (await answersFor('plain/app', [layer])).get(layer)?.length ?? 0;
    expectOk(await podman('pull', '--authfile', server.authFile, '--tls-verify=false', `${server.host}/plain/app:v1`), server);
    const inspected = JSON.parse((expectOk(await podman('image', 'inspect', `${server.host}/plain/app:v1`), server)).stdout) as { Id: string }[];
    assert.equal(`sha256:${inspected[0]?.Id}`, plainImage.config.digest);
    const after = (await answersFor('plain/app', [layer], before + 1)).get(layer) ?? [];
    assert.ok(after.length > before && after.every((s) => s === 307), `podman's layer GETs were redirected: ${after.join(',')}`);
  });

  it('aws ecr get-download-url-for-layer returns a presigned RGW URL whose bytes hash to the layer digest', async () => {
    const layer = plainImage.layers[1]!;
    const out = await awsJson<{ downloadUrl: string; layerDigest: string }>(server, ['ecr', 'get-download-url-for-layer', '--repository-name', 'plain/app', '--layer-digest', layer.digest]);
    assert.equal(out.layerDigest, layer.digest);
    assert.equal(new URL(out.downloadUrl).origin, new URL(bucket.endpoint).origin);
    const file = join(server.workDir, 'layer-direct.bin');
    expectOk(await run('curl', ['-sS', '-f', '-o', file, out.downloadUrl], { timeoutMs: 60_000 }), server);
    assert.equal(sha256(await readFile(file)), layer.digest);
  });

  it('a KMS repository in the same registry stores envelopes and is served by berth (200, never 307)', async () => {
    await skopeo('copy', '--dest-tls-verify=false', `oci:${kmsImage.dir}:${kmsImage.refName}`, ref('kms/app', 'v1'));
    for (const d of imageDigests(kmsImage)) assert.ok(isEnvelope(await stored(d)), `${d} is an envelope in the bucket`);
    const layer = kmsImage.layers[0]!;
    const res = await rawGet('kms/app', layer.digest);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layer.digest);
    const pulled = join(server.workDir, 'pull-kms');
    await skopeo('copy', '--src-tls-verify=false', ref('kms/app', 'v1'), `oci:${pulled}:v1`);
    for (const d of imageDigests(kmsImage)) assert.equal(sha256(await readLayoutBlob(pulled, d)), d);
    const answers = await answersFor('kms/app', imageDigests(kmsImage));
    assert.ok(imageDigests(kmsImage).every((d) => (answers.get(d) ?? []).length > 0), 'skopeo\'s GETs are in the log');
    assert.ok([...answers.values()].flat().every((s) => s === 200), 'no KMS blob was redirected');
    const url = await awsJson<{ downloadUrl: string }>(server, ['ecr', 'get-download-url-for-layer', '--repository-name', 'kms/app', '--layer-digest', layer.digest]);
    assert.equal(new URL(url.downloadUrl).origin, new URL(server.url).origin, 'berth\'s own signed URL, not an S3 one');
  });

  it('the AES256 image pushed to the KMS repository becomes envelopes: the AES256 repository is then served by berth', async () => {
    await skopeo('copy', '--dest-tls-verify=false', `oci:${plainImage.dir}:${plainImage.refName}`, ref('kms/app', 'shared'));
    for (const d of imageDigests(plainImage)) assert.ok(isEnvelope(await stored(d)), `${d} was upgraded to an envelope`);
    const layer = plainImage.layers[0]!;
    for (const repo of ['plain/app', 'kms/app']) {
      const res = await rawGet(repo, layer.digest);
      assert.equal(res.status, 200, `${repo} is served by berth now`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layer.digest);
    }
  });

  it('the ECR layer API (initiate / upload-layer-part / complete) into the KMS repository upgrades a plain object too', async () => {
    const bytes = randomBytes(300_000);
    const digest = sha256(bytes);
    const put = await server.fetch(`/v2/plain/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 201, await put.text());
    assert.equal(sha256(await stored(digest)), digest, 'a plain object first');
    const { uploadId } = await awsJson<{ uploadId: string }>(server, ['ecr', 'initiate-layer-upload', '--repository-name', 'kms/app']);
    for (const [first, last] of [[0, 99_999], [100_000, bytes.length - 1]] as const) {
      const file = join(server.workDir, `part-${first}`);
      await writeFile(file, bytes.subarray(first, last + 1));
      await awsJson(server, ['ecr', 'upload-layer-part', '--repository-name', 'kms/app', '--upload-id', uploadId,
        '--part-first-byte', String(first), '--part-last-byte', String(last), '--layer-part-blob', `fileb://${file}`]);
    }
    const done = await awsJson<{ layerDigest: string }>(server, ['ecr', 'complete-layer-upload', '--repository-name', 'kms/app', '--upload-id', uploadId, '--layer-digests', digest]);
    assert.equal(done.layerDigest, digest);
    assert.ok(isEnvelope(await stored(digest)), 'an envelope once the KMS commit returned');
    for (const repo of ['plain/app', 'kms/app']) {
      const res = await rawGet(repo, digest);
      assert.equal(res.status, 200, repo);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), digest);
    }
  });

  it('with the key disabled the KMS repository is refused, while the AES256 repository still reads (and redirects its plain blobs)', async () => {
    expectOk(await awsCli(server, ['kms', 'disable-key', '--key-id', keyId]), server);
    try {
      const refused = await rawGet('kms/app', kmsImage.layers[0]!.digest);
      const body = await refused.text();
      assert.equal(refused.status, 403, body);
      assert.ok(body.includes(keyArn), body);
      assert.equal((await rawGet('kms/app', plainImage.layers[0]!.digest)).status, 403, 'shared content is gated for the KMS repository too');
      const shared = await rawGet('plain/app', plainImage.layers[0]!.digest);
      assert.equal(shared.status, 200);
      assert.equal(sha256(Buffer.from(await shared.arrayBuffer())), plainImage.layers[0]!.digest);
      // A fresh AES256 push is still redirected.
      const small = randomBytes(2048);
      const digest = sha256(small);
      const put = await server.fetch(`/v2/plain/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: small, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(put.status, 201, await put.text());
      assert.equal((await rawGet('plain/app', digest)).status, 307);
    } finally {
      expectOk(await awsCli(server, ['kms', 'enable-key', '--key-id', keyId]), server);
    }
  });

  it('berth fsck is clean: plain objects of AES256 repositories are expected, no KMS blob is plaintext', async () => {
    const r = await run(process.execPath, [...BERTH_ARGS, 'fsck', '--data-dir', server.dataDir, '--json'], { env: { ...process.env, ...env() }, timeoutMs: 120_000 });
    expectOk(r, server);
    const report = JSON.parse(r.stdout) as { missing: unknown[]; corrupt: unknown[]; plaintext: unknown[]; plainObjects: number };
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.corrupt, []);
    assert.deepEqual(report.plaintext, []);
    assert.ok(report.plainObjects >= 1, `plain objects counted: ${report.plainObjects}`);
  });
});
