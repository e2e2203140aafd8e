/**
 * One berth node on S3 blob storage (Ceph RGW; metadata in SQLite), driven by real clients:
 * skopeo pushes and pulls a multi-layer image whose layers exceed the 5 MiB part minimum (so
 * multipart uploads with several parts carry them), a chunked upload of odd-sized PATCHes is sent
 * with plain HTTP, and when `storage.redirect` is switched on later, the blobs stored before (berth's
 * envelopes) are still served by berth itself. Redirects of blobs pushed in redirect mode:
 * test/e2e/s3-redirect.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../src/storage/blob/s3/s3-client.js';
import { buildImageLayout, readLayoutBlob, sha256, type BuiltImage } from '../fixtures/oci-image.js';
import { deleteTestBucket, type TestBucket } from '../support/s3-buckets.js';
import { freshS3, S3_SKIP, skipReason } from '../support/servers.js';
import { awsJson } from './aws-helpers.js';
import { BerthServer, expectOk, run, toolSkipReason } from './harness.js';

const MiB = 1024 * 1024;
const skip = skipReason(S3_SKIP) || ((await toolSkipReason('skopeo')) ?? false);

describe('S3 blob storage end to end (skopeo, HTTP chunked uploads, aws ecr, redirects)', { skip, timeout: 900_000 }, () => {
  let server: BerthServer;
  let bucket: TestBucket;
  let image: BuiltImage;
  const env = (redirect: boolean): NodeJS.ProcessEnv => ({
    BERTH_STORAGE_BLOB: 's3', BERTH_S3_ENDPOINT: bucket.endpoint, BERTH_S3_BUCKET: bucket.bucket, BERTH_S3_REGION: bucket.region,
    BERTH_S3_ACCESS_KEY_ID: bucket.accessKeyId, BERTH_S3_SECRET_ACCESS_KEY: bucket.secretAccessKey, BERTH_S3_PREFIX: 'reg/',
    BERTH_STORAGE_REDIRECT: String(redirect),
  });
  const skopeo = async (...args: string[]) => expectOk(await run('skopeo', args, { timeoutMs: 300_000 }), server);
  const ref = (repo: string, tag: string) => `docker://${server.host}/${repo}:${tag}`;
  const keys = async (prefix: string): Promise<string[]> => {
    const client = makeS3Client({ ...bucket, prefix: '', forcePathStyle: true });
    try {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const res = await client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix, ContinuationToken: token }));
        out.push(...(res.Contents ?? []).map((o) => o.Key ?? ''));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return out;
    } finally {
      client.destroy();
    }
  };
  async function assertPulled(dir: string): Promise<void> {
    for (const d of [image.config.digest, ...image.layers.map((l) => l.digest)]) {
      const got = await readLayoutBlob(dir, d);
      assert.equal(sha256(got), d, `blob ${d} pulled back with different bytes`);
    }
  }

  before(async () => {
    bucket = freshS3();
    server = await BerthServer.start({ env: env(false) });
    // ~3 x 18 MiB of incompressible files: each layer is several 8 MiB parts plus a smaller last part.
    image = await buildImageLayout(join(server.workDir, 'src'), { layers: 3, filesPerLayer: 9000 });
    for (const l of image.layers) assert.ok(l.size > 3 * 5 * MiB, `layer of ${l.size} bytes`);
    await server.ensureRepository('s3/app');
  });

  after(async () => {
    await server?.dispose();
    if (bucket) await deleteTestBucket(bucket);
  });

  it('skopeo pushes the image into the bucket (created on start) and pulls it back byte-identical through berth', async () => {
    await skopeo('copy', '--dest-tls-verify=false', `oci:${image.dir}:${image.refName}`, ref('s3/app', 'v1'));
    const blobs = await keys('reg/blobs/');
    for (const l of image.layers) assert.ok(blobs.includes(`reg/blobs/sha256/${l.digest.slice(7)}`), `layer ${l.digest} is in the bucket`);
    assert.deepEqual(await keys('reg/uploads/'), [], 'no staged upload is left behind');
    const pulled = join(server.workDir, 'pull-local');
    await skopeo('copy', '--src-tls-verify=false', ref('s3/app', 'v1'), `oci:${pulled}:v1`);
    await assertPulled(pulled);
  });

  it('a chunked upload of odd-sized PATCHes (3 MiB, 4 MiB, 9 MiB + 5, then 1 byte with the PUT) stages in S3 and commits', async () => {
    const bytes = randomBytes(16 * MiB + 6);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const start = await server.fetch('/v2/s3/app/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    let location = start.headers.get('location')!;
    const id = /uploads\/([^/?]+)/.exec(location)![1]!;
    const cuts = [0, 3 * MiB, 7 * MiB, 16 * MiB + 5];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const chunk = bytes.subarray(cuts[i], cuts[i + 1]);
      const res = await server.fetch(new URL(location, server.url).pathname + new URL(location, server.url).search, {
        method: 'PATCH', body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${cuts[i]}-${cuts[i + 1]! - 1}`, 'content-length': String(chunk.length) },
      });
      assert.equal(res.status, 202, await res.text());
      assert.equal(res.headers.get('range'), `0-${cuts[i + 1]! - 1}`);
      location = res.headers.get('location')!;
      // Between PATCHes the pending bytes and the state live in the bucket, not in the node.
      const staged = await keys(`reg/uploads/${id}/`);
      assert.ok(staged.includes(`reg/uploads/${id}/state.json`), staged.join());
      if (i < 2) assert.ok(staged.some((k) => k.includes('/tail-')), `tail object after PATCH ${i + 1}`);
    }
    const url = new URL(location, server.url);
    url.searchParams.set('digest', digest);
    const done = await server.fetch(url.pathname + url.search, {
      method: 'PUT', body: bytes.subarray(cuts[3]), headers: { 'content-type': 'application/octet-stream', 'content-length': '1' },
    });
    assert.equal(done.status, 201, await done.text());
    assert.deepEqual(await keys(`reg/uploads/${id}/`), []);
    const back = await server.fetch(`/v2/s3/app/blobs/${digest}`);
    assert.equal(back.status, 200);
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(bytes));
    const ranged = await server.fetch(`/v2/s3/app/blobs/${digest}`, { headers: { range: `bytes=${8 * MiB - 2}-${8 * MiB + 1}` } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(8 * MiB - 2, 8 * MiB + 2)));
  });

  it('a node killed (kill -9) mid-PATCH: after a restart the client resumes from the recorded offset and completes', async () => {
    const bytes = randomBytes(14 * MiB + 3);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const start = await server.fetch('/v2/s3/app/blobs/uploads/', { method: 'POST' });
    const path = new URL(start.headers.get('location')!, server.url).pathname;
    const first = await server.fetch(path, { method: 'PATCH', body: bytes.subarray(0, 6 * MiB), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(first.status, 202);
    // The second PATCH sends 5 MiB (a full part with the 6 MiB tail is uploaded to S3) and stalls.
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(6 * MiB, 11 * MiB));
      },
    });
    const inFlight = server.fetch(path, { method: 'PATCH', body: stalled, headers: { 'content-type': 'application/octet-stream' }, duplex: 'half' } as RequestInit).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 3000));
    await server.kill9();
    assert.ok((await inFlight) instanceof Error, 'the interrupted PATCH failed');
    await server.launch({ env: env(false) });
    const status = await server.fetch(path);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${6 * MiB - 1}`, 'the recorded offset survived; the unrecorded bytes did not');
    const rest = await server.fetch(path, { method: 'PATCH', body: bytes.subarray(6 * MiB), headers: { 'content-type': 'application/octet-stream', 'content-range': `${6 * MiB}-${bytes.length - 1}` } });
    assert.equal(rest.status, 202, await rest.text());
    const done = await server.fetch(`${path}?digest=${digest}`, { method: 'PUT' });
    assert.equal(done.status, 201, await done.text());
    const back = await server.fetch(`/v2/s3/app/blobs/${digest}`);
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(bytes));
    const id = path.split('/').pop()!;
    assert.deepEqual(await keys(`reg/uploads/${id}/`), [], 'the dead request\'s parts and objects are gone');
  });

  describe('with storage.redirect on', () => {
    before(async () => {
      await server.stop();
      await server.launch({ env: env(true) });
    });

    // The image was pushed with the redirect off, so S3 holds berth's envelopes of it: a presigned
    // S3 URL would hand clients ciphertext. The encrypting store presigns only plain objects (what
    // AES256 repositories store in redirect mode), so berth serves these blobs itself
    // (docs/s3-storage.md); test/e2e/s3-redirect.test.ts pushes in redirect mode and follows 307s.
    it('blobs stored as envelopes before the switch are served by berth itself (no 307 to ciphertext); HEAD stays local', async () => {
      const layer = image.layers[0]!;
      const head = await server.fetch(`/v2/s3/app/blobs/${layer.digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(layer.size));
      const res = await server.fetch(`/v2/s3/app/blobs/${layer.digest}`, { redirect: 'manual' });
      assert.equal(res.status, 200);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layer.digest);
      const stored = await keys('reg/blobs/sha256/');
      assert.ok(stored.some((k) => k.endsWith(layer.digest.slice(7))), 'the blob is in the bucket');
      const missing = await server.fetch(`/v2/s3/app/blobs/sha256:${'0'.repeat(64)}`, { redirect: 'manual' });
      assert.equal(missing.status, 404);
      assert.match(server.log(), /storage\.redirect is on: blobs of AES256 repositories are stored as plain objects/, 'the node says what the redirect mode does');
    });

    it('skopeo pulls the image byte-identical', async () => {
      const pulled = join(server.workDir, 'pull-redirect');
      await skopeo('copy', '--src-tls-verify=false', ref('s3/app', 'v1'), `oci:${pulled}:v1`);
      await assertPulled(pulled);
    });

    it('aws ecr get-download-url-for-layer returns berth\'s own signed URL, which curl downloads with the right digest', async () => {
      const layer = image.layers[1]!;
      const out = await awsJson<{ downloadUrl: string; layerDigest: string }>(server, ['ecr', 'get-download-url-for-layer', '--repository-name', 's3/app', '--layer-digest', layer.digest]);
      assert.equal(out.layerDigest, layer.digest);
      assert.equal(new URL(out.downloadUrl).origin, new URL(server.url).origin);
      const r = await run('curl', ['-sS', '-f', '-o', join(server.workDir, 'layer.bin'), out.downloadUrl], { timeoutMs: 60_000 });
      expectOk(r, server);
      assert.equal(sha256(await readFile(join(server.workDir, 'layer.bin'))), layer.digest);
    });
  });
});
