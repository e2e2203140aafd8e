/**
 * `berth verify-config` against the real external stores: with `storage.blob: s3` it proves the
 * bucket is reachable (creating it when missing) with a put/get/delete of a probe object, with
 * `storage.meta: postgres` that the database answers; a wrong endpoint fails with exit 1 and a
 * clear reason instead of a stack trace or a hang.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bucketExists, deleteTestBucket, type TestBucket } from '../support/s3-buckets.js';
import { freshPostgres, freshS3, POSTGRES_SKIP, S3_SKIP, skipReason, type TestPostgres } from '../support/servers.js';
import { BERTH_ARGS, describeRun, freePort, makeTempDir, run } from './harness.js';

const berth = (...args: string[]) => run(process.execPath, [...BERTH_ARGS, ...args], { timeoutMs: 60_000 });

function s3Yaml(s: TestBucket, endpoint = s.endpoint): string {
  return `storage:\n  blob: s3\ns3:\n  endpoint: ${endpoint}\n  bucket: ${s.bucket}\n  region: ${s.region}\n  accessKeyId: ${s.accessKeyId}\n  secretAccessKey: ${s.secretAccessKey}\n  prefix: berth/\n`;
}

describe('berth verify-config checks S3', { skip: skipReason(S3_SKIP) }, () => {
  let dir: string;
  const buckets: TestBucket[] = [];
  before(() => {
    dir = makeTempDir('berth-e2e-verify-');
  });
  after(async () => {
    for (const b of buckets) await deleteTestBucket(b);
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the missing bucket, writes, reads and deletes a probe object, and exits 0', async () => {
    const s = freshS3();
    buckets.push(s);
    const file = join(dir, 's3.yaml');
    await writeFile(file, s3Yaml(s));
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, new RegExp(`s3: ok \\(bucket ${s.bucket} at ${s.endpoint} created; probe object written, read back and deleted\\)`));
    assert.doesNotMatch(r.stdout, new RegExp(s.secretAccessKey));
    assert.ok(await bucketExists(s));
    // The probe is gone again, and a second run finds the bucket.
    const again = await berth('verify-config', '--config', file);
    assert.equal(again.code, 0, describeRun(again));
    assert.match(again.stdout, /s3: ok \(bucket \S+ at \S+ reachable/);
  });

  it('exits 1 when the store refuses the configured server-side encryption (our RGW has no SSE key backend)', async () => {
    const s = freshS3();
    buckets.push(s);
    const file = join(dir, 's3-sse.yaml');
    await writeFile(file, `${s3Yaml(s)}  serverSideEncryption: AES256\n`);
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /s3: FAILED: writing an object with s3\.serverSideEncryption AES256 failed \(.*400.*\); does the store support it\?/);
  });

  it('exits 1 naming the unreachable endpoint', async () => {
    const s = freshS3();
    const file = join(dir, 's3-bad.yaml');
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    await writeFile(file, s3Yaml(s, endpoint));
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /s3: FAILED: .*ECONNREFUSED/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('exits 1 when the credentials are wrong', async () => {
    const s = { ...freshS3(), secretAccessKey: 'not-the-secret' };
    const file = join(dir, 's3-creds.yaml');
    await writeFile(file, s3Yaml(s));
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /s3: FAILED: .*(403|SignatureDoesNotMatch|Forbidden)/);
  });
});

describe('berth verify-config checks PostgreSQL', { skip: skipReason(POSTGRES_SKIP) }, () => {
  let dir: string;
  let db: TestPostgres;
  before(async () => {
    dir = makeTempDir('berth-e2e-verify-pg-');
    db = await freshPostgres();
  });
  after(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects, runs select 1 and exits 0', async () => {
    const file = join(dir, 'pg.yaml');
    await writeFile(file, `storage:\n  meta: postgres\npostgres:\n  url: ${db.url}\n`);
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /postgres: ok \(database berth_t_\w+ at 127\.0\.0\.1:\d+ answers/);
    assert.doesNotMatch(r.stdout, /registry:registry@/, 'the URL (with its password) is not printed');
  });

  it('exits 1 naming the refused connection for a wrong endpoint', async () => {
    const file = join(dir, 'pg-bad.yaml');
    await writeFile(file, `storage:\n  meta: postgres\npostgres:\n  url: postgres://registry:registry@127.0.0.1:${await freePort()}/registry\n`);
    const r = await berth('verify-config', '--config', file);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /postgres: FAILED: .*ECONNREFUSED/);
  });
});
