/** The LifecycleStore contract, run by every implementation (see lifecycle-store.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../src/core/errors.js';
import { keyOf, type LifecycleAction } from '../../src/core/lifecycle.js';
import type { LifecycleStore } from '../../src/core/ports/lifecycle-store.js';
import type { MetaStore } from '../../src/core/ports/meta-store.js';
import { manifest, signal } from './meta-store-helpers.js';

const ACCOUNT = '000000000000';
/** The in-memory store tells a re-created repository or manifest by its creation time, in milliseconds. */
const tick = () => new Promise((done) => setTimeout(done, 3));
const repo = (name: string) => ({ accountId: ACCOUNT, name });

export function lifecycleStoreContract(label: string, open: () => Promise<{ meta: MetaStore; store: LifecycleStore }>): void {
  describe(`LifecycleStore contract: ${label}`, () => {
    it('stores, replaces, lists and deletes a policy; a run is recorded on it', async () => {
      const { meta, store } = await open();
      await meta.createRepository(keyOf(repo('a')), signal);
      await meta.createRepository(keyOf(repo('b')), signal);
      assert.equal(await store.getPolicy(repo('a'), signal), undefined);
      await store.putPolicy(repo('a'), 'one', new Date(1000), signal);
      await store.putPolicy(repo('a'), 'two', new Date(2000), signal);
      await store.putPolicy(repo('b'), 'three', new Date(3000), signal);
      assert.deepEqual(await store.getPolicy(repo('a'), signal), { text: 'two', updatedAt: new Date(2000) });
      await store.recordRun(repo('a'), { at: new Date(5000), expired: 3, transitioned: 1 }, signal);
      assert.deepEqual(await store.getPolicy(repo('a'), signal), { text: 'two', updatedAt: new Date(2000), lastEvaluatedAt: new Date(5000), lastExpired: 3, lastTransitioned: 1 });
      assert.deepEqual((await store.listPolicies(signal)).map((p) => [p.repo.name, p.text]), [['a', 'two'], ['b', 'three']]);
      assert.equal((await store.deletePolicy(repo('a'), signal))?.text, 'two');
      assert.equal(await store.deletePolicy(repo('a'), signal), undefined);
      assert.deepEqual((await store.listPolicies(signal)).map((p) => p.repo.name), ['b']);
    });

    it('refuses a policy for a repository that does not exist, or of another account', async () => {
      const { meta, store } = await open();
      await meta.createRepository(keyOf(repo('a')), signal);
      for (const r of [repo('nope'), { accountId: '111111111111', name: 'a' }]) {
        await assert.rejects(store.putPolicy(r, 'x', new Date(), signal), (e: unknown) => isBerthError(e) && e.code === 'RepositoryNotFound');
      }
    });

    it('the same name in two accounts: each has its own policy, run and archive state', async () => {
      const { meta, store } = await open();
      const other = { accountId: '111111111111', name: 'a' };
      await meta.createRepository(keyOf(repo('a')), signal);
      await meta.createRepository(keyOf(other), signal);
      await store.putPolicy(repo('a'), 'mine', new Date(1000), signal);
      await store.putPolicy(other, 'theirs', new Date(2000), signal);
      await store.recordRun(other, { at: new Date(3000), expired: 1, transitioned: 0 }, signal);
      assert.deepEqual(await store.getPolicy(repo('a'), signal), { text: 'mine', updatedAt: new Date(1000) });
      assert.equal((await store.getPolicy(other, signal))?.lastExpired, 1);
      assert.deepEqual((await store.listPolicies(signal)).map((p) => [p.repo.accountId, p.repo.name, p.text]), [[ACCOUNT, 'a', 'mine'], ['111111111111', 'a', 'theirs']]);
      const m = manifest(keyOf(other), 'other');
      await meta.putManifest(m, signal);
      await store.setArchiveState(other, m.digest, { status: 'ARCHIVED', lastArchivedAt: new Date(4000) }, signal);
      await assert.rejects(store.setArchiveState(repo('a'), m.digest, { status: 'ARCHIVED', lastArchivedAt: new Date(4000) }, signal), (e: unknown) => isBerthError(e) && e.code === 'ImageNotFound');
      assert.equal((await store.archiveStates(other, signal)).get(m.digest)?.status, 'ARCHIVED');
      assert.equal((await store.archiveStates(repo('a'), signal)).size, 0);
      await meta.deleteRepository(keyOf(other), signal);
      assert.deepEqual((await store.listPolicies(signal)).map((p) => p.text), ['mine']);
    });

    it('a deleted repository takes its policy with it', async () => {
      const { meta, store } = await open();
      await meta.createRepository(keyOf(repo('a')), signal);
      await store.putPolicy(repo('a'), 'x', new Date(), signal);
      await meta.deleteRepository(keyOf(repo('a')), signal);
      await tick();
      await meta.createRepository(keyOf(repo('a')), signal);
      assert.equal(await store.getPolicy(repo('a'), signal), undefined);
    });

    it('one preview at a time: begin refuses while one is in progress unless it is stale; finish stores results', async () => {
      const { meta, store } = await open();
      await meta.createRepository(keyOf(repo('a')), signal);
      const t0 = new Date(10_000);
      assert.equal(await store.beginPreview(repo('a'), 'p', t0, new Date(0), signal), true);
      assert.equal(await store.beginPreview(repo('a'), 'p', new Date(11_000), new Date(5_000), signal), false);
      const action: LifecycleAction = { digest: manifest('a', 'x').digest, tags: ['t'], pushedAt: new Date(42), storageClass: 'STANDARD', rulePriority: 1, type: 'EXPIRE' };
      await store.finishPreview(repo('a'), t0, 'COMPLETE', [action], signal);
      assert.deepEqual(await store.getPreview(repo('a'), signal), { text: 'p', status: 'COMPLETE', startedAt: t0, results: [action] });
      assert.equal(await store.beginPreview(repo('a'), 'q', new Date(12_000), new Date(11_000), signal), true);
      // A finish for the replaced preview does not overwrite the new one.
      await store.finishPreview(repo('a'), t0, 'FAILED', [], signal);
      assert.equal((await store.getPreview(repo('a'), signal))?.status, 'IN_PROGRESS');
      assert.equal(await store.beginPreview(repo('a'), 'r', new Date(13_000), new Date(12_500), signal), true, 'a stale IN_PROGRESS preview blocks forever');
    });

    it('archive state of an image is set, read, and goes with its manifest', async () => {
      const { meta, store } = await open();
      await meta.createRepository(keyOf(repo('a')), signal);
      const m = manifest('a', 'img');
      await meta.putManifest(m, signal);
      await assert.rejects(store.setArchiveState(repo('a'), manifest('a', 'other').digest, { status: 'ARCHIVED' }, signal), (e: unknown) => isBerthError(e) && e.code === 'ImageNotFound');
      await store.setArchiveState(repo('a'), m.digest, { status: 'ARCHIVED', lastArchivedAt: new Date(7) }, signal);
      assert.deepEqual([...(await store.archiveStates(repo('a'), signal))], [[m.digest, { status: 'ARCHIVED', lastArchivedAt: new Date(7) }]]);
      await store.setArchiveState(repo('a'), m.digest, { status: 'ACTIVE', lastArchivedAt: new Date(7), lastActivatedAt: new Date(9) }, signal);
      assert.equal((await store.archiveStates(repo('a'), signal)).get(m.digest)?.status, 'ACTIVE');
      await meta.deleteManifest(keyOf(repo('a')), m.digest, signal);
      await tick();
      await meta.putManifest(m, signal);
      assert.equal((await store.archiveStates(repo('a'), signal)).size, 0, 'a re-pushed image inherited an old archive state');
    });

    it('pull-time exclusions: add once, list in order with paging, remove once', async () => {
      const { store } = await open();
      const arn = (n: string) => `arn:aws:iam::${ACCOUNT}:user/${n}`;
      assert.equal(await store.addPullTimeExclusion(ACCOUNT, arn('b'), new Date(1), signal), true);
      assert.equal(await store.addPullTimeExclusion(ACCOUNT, arn('a'), new Date(2), signal), true);
      assert.equal(await store.addPullTimeExclusion(ACCOUNT, arn('a'), new Date(3), signal), false);
      assert.equal(await store.addPullTimeExclusion('111111111111', arn('z'), new Date(3), signal), true);
      assert.deepEqual(await store.listPullTimeExclusions(ACCOUNT, { limit: 1 }, signal), [{ arn: arn('a'), createdAt: new Date(2) }]);
      assert.deepEqual((await store.listPullTimeExclusions(ACCOUNT, { after: arn('a'), limit: 10 }, signal)).map((e) => e.arn), [arn('b')]);
      assert.equal(await store.removePullTimeExclusion(ACCOUNT, arn('a'), signal), true);
      assert.equal(await store.removePullTimeExclusion(ACCOUNT, arn('a'), signal), false);
      assert.deepEqual((await store.listPullTimeExclusions(ACCOUNT, { limit: 10 }, signal)).map((e) => e.arn), [arn('b')]);
    });
  });
}
