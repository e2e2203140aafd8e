/**
 * `berth fsck` against the PostgreSQL metadata store (storage.meta: postgres through the
 * environment, as operators configure it) and blobs on disk: consistent data reads as consistent;
 * a blob a manifest needs that vanished from storage is reported with who references it, exit 1.
 */
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { asDigest } from '../../src/core/digest.js';
import { digestOf } from '../../src/core/manifest.js';
import { repoKey } from '../../src/core/repo-key.js';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { openPostgresMetaStore } from '../../src/storage/meta/postgres/pg-meta-store.js';
import { freshPostgres, POSTGRES_SKIP, skipReason, type TestPostgres } from '../support/servers.js';
import { BERTH_ARGS, describeRun, run } from './harness.js';

const signal = new AbortController().signal;

describe('berth fsck on PostgreSQL metadata', { skip: skipReason(POSTGRES_SKIP) }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-fsck-pg-'));
  let pg: TestPostgres | undefined;
  after(async () => {
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the PostgreSQL store: clean when consistent, exit 1 naming the manifest when a referenced blob is gone', async () => {
    pg = await freshPostgres();
    const repo = repoKey('000000000000', 'fsck/app');
    const meta = await openPostgresMetaStore({ url: pg.url, poolSize: 2 });
    const blobs = await FsBlobStore.open({ root: dataDir });
    const put = async (id: string, bytes: Buffer) => {
      await blobs.appendUpload(id, 0, Readable.from([bytes]), signal);
      const digest = asDigest(digestOf(bytes));
      await blobs.commitUpload(id, digest, signal);
      await meta.linkBlob(repo, digest, bytes.byteLength, signal);
      return digest;
    };
    let manifestDigest: string;
    let layer: string;
    try {
      await meta.createRepository(repo, signal);
      const config = await put('u1', Buffer.from('{"architecture":"amd64","os":"linux"}'));
      layer = await put('u2', Buffer.from('layer bytes'));
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers: [layer] }));
      manifestDigest = digestOf(body);
      await meta.putManifest({
        repository: repo, digest: asDigest(manifestDigest), mediaType: 'application/vnd.oci.image.manifest.v1+json', body,
        imageSize: 0, blobs: [asDigest(config), asDigest(layer)], manifests: [], tag: 'latest',
      }, signal);
    } finally {
      await meta.close();
    }

    const env = { BERTH_STORAGE_META: 'postgres', BERTH_POSTGRES_URL: pg.url, BERTH_MASTER_KEY: randomBytes(32).toString('base64') };
    const clean = await run(process.execPath, [...BERTH_ARGS, 'fsck', '--data-dir', dataDir, '--json'], { env, timeoutMs: 60_000 });
    assert.equal(clean.code, 0, describeRun(clean));
    const report = JSON.parse(clean.stdout) as { checkedBlobs: number; missing: unknown[]; orphans: unknown[] };
    assert.equal(report.checkedBlobs, 2);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.orphans, []);

    await blobs.delete(asDigest(layer), signal);
    const damaged = await run(process.execPath, [...BERTH_ARGS, 'fsck', '--data-dir', dataDir], { env, timeoutMs: 60_000 });
    assert.equal(damaged.code, 1, describeRun(damaged));
    assert.match(damaged.stdout, /missing: 1/);
    assert.ok(damaged.stdout.includes(`${layer} (referenced by 000000000000/fsck/app@${manifestDigest})`), damaged.stdout);
    assert.match(damaged.stdout, /result: DAMAGED/);
  });
});
