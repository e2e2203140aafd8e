/**
 * Two berth nodes on one PostgreSQL database: two stores, each on a pool of its own (as two
 * processes would be), running conflicting operations at the same moment. Each test checks the
 * invariant the single-writer SQLite store gets for free.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { fail, isBerthError, type ErrorCode } from '../../src/core/errors.js';
import { openPostgres, type PostgresHandle } from '../../src/storage/meta/postgres/open.js';
import { fenceUnlinked, lockDigestsForFence } from '../../src/storage/meta/postgres/pg-blob-fence.js';
import { PostgresMetaStore } from '../../src/storage/meta/postgres/pg-meta-store.js';
import { freshPostgres, POSTGRES_SKIP, skipReason, type TestPostgres } from '../support/servers.js';
import { digestOf, k, manifest, signal } from './meta-store-helpers.js';

/** The code of a rejection (a BerthError), or 'ok' for a fulfilment. */
function outcome(r: PromiseSettledResult<unknown>): ErrorCode | 'ok' {
  if (r.status === 'fulfilled') return 'ok';
  if (isBerthError(r.reason)) return r.reason.code;
  throw r.reason;
}

describe('PostgresMetaStore: two nodes at once', { skip: skipReason(POSTGRES_SKIP) }, () => {
  let pg: TestPostgres;
  let handles: PostgresHandle[];
  let a: PostgresMetaStore;
  let b: PostgresMetaStore;
  before(async () => {
    pg = await freshPostgres();
    handles = [await openPostgres({ url: pg.url, poolSize: 4 }), await openPostgres({ url: pg.url, poolSize: 4 })];
    a = new PostgresMetaStore(handles[0]!);
    b = new PostgresMetaStore(handles[1]!);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await pg?.drop();
  });

  it('createRepository racing on two nodes: exactly one reports created, both return the same repository', async () => {
    for (let i = 0; i < 20; i++) {
      const [x, y] = await Promise.all([a.createRepository(k(`race-${i}`), signal), b.createRepository(k(`race-${i}`), signal)]);
      assert.equal(Number(x.created) + Number(y.created), 1, `race-${i}`);
      assert.deepEqual(x.repository, y.repository);
    }
  });

  it('advanceUpload is a compare-and-set: of two PATCHes from the same offset on two nodes exactly one wins', async () => {
    await a.createRepository(k('uploads'), signal);
    await a.createUpload({ id: 'u', repository: k('uploads') }, signal);
    let size = 0;
    for (let round = 0; round < 20; round++) {
      const results = await Promise.allSettled([
        a.advanceUpload(k('uploads'), 'u', size, size + 10, signal),
        b.advanceUpload(k('uploads'), 'u', size, size + 20, signal),
      ]);
      assert.deepEqual(results.map(outcome).sort(), ['UploadInvalid', 'ok'], `round ${round}`);
      const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ size: number }>;
      assert.equal((await b.getUpload(k('uploads'), 'u', signal))?.size, winner.value.size);
      size = winner.value.size;
    }
  });

  it('a mutable tag moved by 20 concurrent pushes from two nodes forms one chain, and push times stay strictly ordered', async () => {
    await a.createRepository(k('moves'), signal);
    const inputs = Array.from({ length: 20 }, (_, i) => manifest('moves', `m${i}`, { tag: 'latest' }));
    const results = await Promise.all(inputs.map((input, i) => (i % 2 ? a : b).putManifest(input, signal)));
    assert.ok(results.every((r) => r.created));
    const previous = results.map((r) => r.previous).filter((p): p is Digest => p !== undefined);
    assert.equal(previous.length, 19, 'only the first push found the tag absent');
    assert.equal(new Set(previous).size, 19, 'each state of the tag was replaced exactly once');
    const final = await a.resolveTag(k('moves'), 'latest', signal);
    const pushed = new Set(inputs.map((m) => m.digest));
    assert.ok(final && pushed.has(final) && !previous.includes(final), 'the tag ends at the one digest nobody replaced');
    const { images } = await b.describeImages(k('moves'), { limit: 100 }, signal);
    const times = images.map((img) => img.pushedAt.getTime());
    assert.equal(new Set(times).size, 20, 'no two pushes share a push time');
    assert.deepEqual(images.flatMap((img) => img.tags), ['latest']);
  });

  it('an immutable tag pushed with different manifests from two nodes at once is taken by exactly one', async () => {
    await a.createRepository(k('immutable'), signal);
    const refuse = (tag: string) => {
      throw fail('ImageTagAlreadyExists', 'tag is immutable', { tag });
    };
    for (let i = 0; i < 10; i++) {
      const x = manifest('immutable', `x${i}`, { tag: `v${i}`, beforeTagMove: refuse });
      const y = manifest('immutable', `y${i}`, { tag: `v${i}`, beforeTagMove: refuse });
      const results = await Promise.allSettled([a.putManifest(x, signal), b.putManifest(y, signal)]);
      assert.deepEqual(results.map(outcome).sort(), ['ImageTagAlreadyExists', 'ok'], `v${i}`);
      const won = results[0]!.status === 'fulfilled' ? x : y;
      const lost = won === x ? y : x;
      assert.equal(await b.resolveTag(k('immutable'), `v${i}`, signal), won.digest);
      assert.equal(await a.getManifest(k('immutable'), lost.digest, signal), undefined, 'the refused push stored nothing');
    }
  });

  it('the same manifest pushed from two nodes is created once; referrers pushed from both are all listed', async () => {
    await a.createRepository(k('same'), signal);
    const input = manifest('same', 'one');
    const results = await Promise.all([a.putManifest(input, signal), b.putManifest(input, signal)]);
    assert.equal(results.filter((r) => r.created).length, 1);
    const referrers = Array.from({ length: 10 }, (_, i) => manifest('same', `sig${i}`, { subject: input.digest, artifactType: 'application/x-sig' }));
    await Promise.all(referrers.map((r, i) => (i % 2 ? a : b).putManifest(r, signal)));
    const listed = await a.listReferrers(k('same'), input.digest, undefined, signal);
    assert.deepEqual(listed.map((r) => r.digest), referrers.map((r) => r.digest).sort());
  });

  it('unlinkBlob racing a push that references the blob: the push keeps its blob or fails, never a manifest without its link', async () => {
    await a.createRepository(k('unlink'), signal);
    for (let i = 0; i < 15; i++) {
      const blob = digestOf(`unlink-blob-${i}`);
      await Promise.all([a.linkBlob(k('unlink'), blob, 5, signal), b.linkBlob(k('unlink'), blob, 5, signal)]);
      const input = manifest('unlink', `u${i}`, { blobs: [blob] });
      const [unlink, put] = await Promise.allSettled([a.unlinkBlob(k('unlink'), blob, signal), b.putManifest(input, signal)]);
      const pair = [outcome(unlink), outcome(put)].join('/');
      assert.ok(pair === 'ok/ManifestBlobUnknown' || pair === 'BlobReferenced/ok', pair);
      const stored = await a.getManifest(k('unlink'), input.digest, signal);
      const link = await b.getBlobLink(k('unlink'), blob, signal);
      assert.equal(stored !== undefined, link !== undefined, `manifest stored ⇔ blob linked (${pair})`);
    }
  });

  it('deleteRepository(onlyIfEmpty) racing a push: either the repository stays with the image or both are gone', async () => {
    for (let i = 0; i < 10; i++) {
      await a.createRepository(k(`del-${i}`), signal);
      const [del, put] = await Promise.allSettled([
        a.deleteRepository(k(`del-${i}`), signal, { onlyIfEmpty: true }),
        b.putManifest(manifest(`del-${i}`, `d${i}`, { tag: 'latest' }), signal),
      ]);
      const pair = [outcome(del), outcome(put)].join('/');
      assert.ok(pair === 'ok/RepositoryNotFound' || pair === 'RepositoryNotEmpty/ok', pair);
      const exists = (await b.getRepository(k(`del-${i}`), signal)) !== undefined;
      assert.equal(exists, pair === 'RepositoryNotEmpty/ok');
    }
  });

  it('linkBlob waits for a GC fencing the digest on another node, then refuses it', async () => {
    await a.createRepository(k('fence'), signal);
    const digest = digestOf('fenced-while-linking');
    let release!: () => void;
    const held = new Promise<void>((done) => { release = done; });
    let locked!: () => void;
    const isLocked = new Promise<void>((done) => { locked = done; });
    const gc = handles[1]!.db.transaction().execute(async (trx) => {
      await lockDigestsForFence(trx, [digest]);
      await trx.insertInto('gc_blob_fence').values({ digest, fenced_at: Date.now() }).execute();
      locked();
      await held;
    });
    await isLocked;
    let settled = false;
    const link = a.linkBlob(k('fence'), digest, 3, signal).finally(() => { settled = true; });
    link.catch(() => {});
    await sleep(300);
    assert.equal(settled, false, 'linkBlob waits while the GC holds the fence lock');
    release();
    await gc;
    await assert.rejects(link, (e: unknown) => isBerthError(e) && e.code === 'Unavailable');
    assert.equal(await a.getBlobLink(k('fence'), digest, signal), undefined);
  });

  it('linkBlob racing a GC fence on another node: every digest ends linked or fenced, never both', async () => {
    await a.createRepository(k('gc-race'), signal);
    const digests = Array.from({ length: 40 }, (_, i) => digestOf(`gc-race-${i}`));
    const results = await Promise.all(digests.map(async (d) => {
      const [link, fence] = await Promise.allSettled([a.linkBlob(k('gc-race'), d, 1, signal), fenceUnlinked(handles[1]!.db, [d], new Date())]);
      return { d, link: outcome(link), fenced: fence.status === 'fulfilled' && fence.value.includes(d) };
    }));
    const fenceRows = new Set((await handles[0]!.db.selectFrom('gc_blob_fence').select('digest').execute()).map((r) => r.digest));
    for (const r of results) {
      const linked = (await b.getBlobLink(k('gc-race'), r.d, signal)) !== undefined;
      assert.equal(linked, r.link === 'ok');
      assert.equal(fenceRows.has(r.d), r.fenced);
      assert.ok(linked !== r.fenced, `${r.d}: linked=${linked} fenced=${r.fenced}`);
      if (!linked) assert.equal(r.link, 'Unavailable');
    }
  });
});
