/**
 * The per-node caches on the manifest GET path (archived digests, alias owners): a change made on
 * this node applies at once; one made on another node sharing the stores applies within the TTL
 * (5 s, the manifest cache's bound), never later.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it, mock } from 'node:test';
import { asDigest } from '../../src/core/digest.js';
import { isBerthError } from '../../src/core/errors.js';
import { LocalEventBus } from '../../src/core/events.js';
import { refOf } from '../../src/core/lifecycle.js';
import { repoKey } from '../../src/core/repo-key.js';
import { PublicRepositoryService } from '../../src/core/services/public/public-repositories.js';
import { ArchiveAndPullTimes } from '../../src/lifecycle/archive.js';
import { MemoryLifecycleStore } from '../../src/storage/meta/memory/memory-lifecycle-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import { openSqlitePublicRegistry } from '../../src/storage/meta/sqlite/sqlite-public-registry.js';

const signal = new AbortController().signal;
const REPO = repoKey('000000000000', 'app');
const digest = asDigest(`sha256:${'cd'.repeat(32)}`);
const archived = (e: unknown) => isBerthError(e) && e.code === 'ImageArchived';

beforeEach(() => mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-01-01T00:00:00Z') }));
afterEach(() => mock.timers.reset());

async function twoNodes() {
  const meta = new MemoryMetaStore();
  const store = new MemoryLifecycleStore(meta);
  await meta.createRepository(REPO, signal);
  await meta.putManifest({ repository: REPO, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', body: new TextEncoder().encode('{}'), imageSize: 0, blobs: [], manifests: [] }, signal);
  const events = new LocalEventBus();
  const clock = () => new Date();
  return { here: new ArchiveAndPullTimes(meta, store, events, clock), there: new ArchiveAndPullTimes(meta, store, new LocalEventBus(), clock), store, events };
}

describe('archived digests on the pull path', () => {
  it('an archive or restore through this node applies to its very next pull, though the answer was cached', async () => {
    const { here } = await twoNodes();
    await here.assertPullable(REPO, digest, signal);
    assert.equal(await here.updateStorageClass(refOf(REPO), digest, 'ARCHIVE', signal), 'ARCHIVED');
    await assert.rejects(here.assertPullable(REPO, digest, signal), archived);
    assert.equal(await here.updateStorageClass(refOf(REPO), digest, 'STANDARD', signal), 'ACTIVATING');
    await here.assertPullable(REPO, digest, signal);
  });

  it('a lifecycle run in this process (store write + image.archived event) applies at once', async () => {
    const { here, store, events } = await twoNodes();
    await here.assertPullable(REPO, digest, signal);
    await store.setArchiveState(refOf(REPO), digest, { status: 'ARCHIVED', lastArchivedAt: new Date() }, signal);
    events.emit({ type: 'image.archived', repository: REPO, digest, at: new Date() });
    await assert.rejects(here.assertPullable(REPO, digest, signal), archived);
  });

  it('an archive on another node sharing the store applies here within 5 s', async () => {
    const { here, there } = await twoNodes();
    await here.assertPullable(REPO, digest, signal);
    await there.updateStorageClass(refOf(REPO), digest, 'ARCHIVE', signal);
    await here.assertPullable(REPO, digest, signal);
    mock.timers.tick(5_001);
    await assert.rejects(here.assertPullable(REPO, digest, signal), archived);
  });

  it('an unknown repository has nothing archived', async () => {
    const { here } = await twoNodes();
    await here.assertPullable(repoKey('000000000000', 'nope'), digest, signal);
  });
});

describe('alias owners on /v2 names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-alias-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an alias assigned through this node routes at once; through another node within 5 s', async () => {
    const path = join(dir, 'meta.db');
    const meta = new MemoryMetaStore();
    const [storeA, storeB] = [await openSqlitePublicRegistry({ path }), await openSqlitePublicRegistry({ path })];
    try {
      const here = new PublicRepositoryService(meta, storeA, new LocalEventBus());
      const there = new PublicRepositoryService(meta, storeB, new LocalEventBus());
      assert.equal(await here.ownerOfName('team/app', signal), undefined);
      assert.equal(await there.ownerOfName('team/app', signal), undefined);
      await here.ensureAlias('111111111111', 'team', signal);
      assert.equal(await here.ownerOfName('team/app', signal), '111111111111');
      assert.equal(await there.ownerOfName('team/app', signal), undefined, 'the miss is kept for the TTL');
      mock.timers.tick(5_001);
      assert.equal(await there.ownerOfName('team/app', signal), '111111111111');
      assert.equal(await there.ownerOfName('app', signal), undefined, 'a name without a slash is in no alias');
    } finally {
      await storeA.close();
      await storeB.close();
    }
  });
});
