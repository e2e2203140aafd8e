/** ECR image views of the MetaStore contract: listImageIds, describeImages and recordPull. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import type { ImageDetail, ImageId, MetaStore } from '../../src/core/ports/meta-store.js';
import { digestOf, OCI_MANIFEST, pushImage, rejectsWith, signal, k } from './meta-store-helpers.js';

type Filter = 'TAGGED' | 'UNTAGGED' | 'ANY' | undefined;

/** Byte order of ASCII strings (digests, tags in these tests), independent of locale. */
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Four manifests pushed in this order to repository `r`: `one` tagged v1 then latest, `two` tagged x,
 * `three` untagged (an SBOM), `four` tagged a, _x, A. That is 7 image ids: 6 (digest, tag) pairs and 1
 * tagless id. `tags` lists each image's tags in the order they were applied, `pushed` the push order.
 */
async function fourImages(store: MetaStore) {
  const one = await pushImage(store, 'r', 'one', { tag: 'v1' });
  await store.putManifest({ ...one.input, tag: 'latest' }, signal);
  const two = await pushImage(store, 'r', 'two', { tag: 'x', imageSize: 5 });
  const three = await pushImage(store, 'r', 'three', { artifactType: 'application/spdx+json' });
  const four = await pushImage(store, 'r', 'four', { tag: 'a' });
  for (const tag of ['_x', 'A']) await store.putManifest({ ...four.input, tag }, signal);
  const tags = new Map<Digest, string[]>([
    [one.digest, ['v1', 'latest']], [two.digest, ['x']], [three.digest, []], [four.digest, ['a', '_x', 'A']],
  ]);
  const pushed = [...tags.keys()];
  const digests = [...pushed].sort(byBytes);
  const ids = (filter: Filter): ImageId[] => digests.flatMap((digest): ImageId[] => {
    const t = [...tags.get(digest)!].sort(byBytes);
    if (t.length === 0) return filter === 'TAGGED' ? [] : [{ digest }];
    return filter === 'UNTAGGED' ? [] : t.map((tag) => ({ digest, tag }));
  });
  return { one, two, three, four, tags, digests, pushed, ids };
}

/** Follows `next` to the end, checking every page's size; resolves with the pages. */
async function pages<T>(limit: number, fetch: (after: string | undefined) => Promise<{ items: T[]; next?: string }>): Promise<T[][]> {
  const out: T[][] = [];
  let after: string | undefined;
  for (let i = 0; i < 20; i++) {
    const { items, next } = await fetch(after);
    assert.ok(items.length <= limit, `page of ${items.length} exceeds limit ${limit}`);
    out.push(items);
    if (next === undefined) return out;
    assert.equal(items.length, limit, 'a page followed by another must be full');
    after = next;
  }
  throw new Error('pagination did not end');
}

/** Registers the image view tests; `current` returns the running test's store. */
export function imageContract(current: () => MetaStore): void {
  const idPages = (limit: number, filter: Filter) => pages(limit, async (after) => {
    const { ids, next } = await current().listImageIds(k('r'), { filter, after, limit }, signal);
    return { items: ids, next };
  });
  const detailPages = (limit: number, filter: Filter) => pages(limit, async (after) => {
    const { images, next } = await current().describeImages(k('r'), { filter, after, limit }, signal);
    return { items: images, next };
  });

  describe('listImageIds', () => {
    it('returns one id per (digest, tag) and one tagless id per untagged manifest, by digest then tag in byte order', async () => {
      const { ids } = await fourImages(current());
      assert.deepEqual(await current().listImageIds(k('r'), { limit: 100 }, signal), { ids: ids(undefined) });
      assert.deepEqual(await current().listImageIds(k('r'), { filter: 'ANY', limit: 100 }, signal), { ids: ids('ANY') });
      assert.equal(ids('ANY').length, 7);
    });

    it('filter TAGGED keeps only tagged pairs and UNTAGGED only tagless ids', async () => {
      const { ids, three } = await fourImages(current());
      assert.deepEqual((await current().listImageIds(k('r'), { filter: 'TAGGED', limit: 100 }, signal)).ids, ids('TAGGED'));
      assert.deepEqual((await current().listImageIds(k('r'), { filter: 'UNTAGGED', limit: 100 }, signal)).ids, [{ digest: three.digest }]);
    });

    it('pages 7 ids with limit 3 as 3+3+1 across manifest boundaries, with `next` only while more remain', async () => {
      const { ids } = await fourImages(current());
      const got = await idPages(3, 'ANY');
      assert.deepEqual(got.map((p) => p.length), [3, 3, 1]);
      assert.deepEqual(got.flat(), ids('ANY'));
      const tagged = await idPages(3, 'TAGGED');
      assert.deepEqual(tagged.map((p) => p.length), [3, 3]);
      assert.deepEqual(tagged.flat(), ids('TAGGED'));
      assert.deepEqual(await idPages(1, 'UNTAGGED'), [ids('UNTAGGED')]);
      assert.deepEqual((await idPages(2, undefined)).flat(), ids('ANY'));
    });

    it('a cursor stays valid when the entry it names is deleted meanwhile', async () => {
      const store = current();
      const { ids } = await fourImages(store);
      const first = await store.listImageIds(k('r'), { limit: 2 }, signal);
      const last = first.ids.at(-1)!;
      if (last.tag !== undefined) await store.deleteTag(k('r'), last.tag, signal);
      else await store.deleteManifest(k('r'), last.digest, signal);
      const rest = await store.listImageIds(k('r'), { after: first.next, limit: 100 }, signal);
      assert.deepEqual([...first.ids, ...rest.ids], ids('ANY'));
      assert.equal(rest.next, undefined);
    });

    it('returns no ids for an empty repository, and throws RepositoryNotFound or InvalidParameter (bad cursor)', async () => {
      await current().createRepository(k('empty'), signal);
      assert.deepEqual(await current().listImageIds(k('empty'), { limit: 10 }, signal), { ids: [] });
      await rejectsWith(current().listImageIds(k('nope'), { limit: 10 }, signal), 'RepositoryNotFound');
      await rejectsWith(current().listImageIds(k('empty'), { after: 'not-a-cursor', limit: 10 }, signal), 'InvalidParameter');
    });
  });

  describe('describeImages', () => {
    it('describes every manifest in push order with its tags in the order applied, sizes and times', async () => {
      const store = current();
      const { tags, pushed, one, two, three } = await fourImages(store);
      const { images, next } = await store.describeImages(k('r'), { limit: 100 }, signal);
      assert.equal(next, undefined);
      assert.deepEqual(images.map((d) => d.digest), pushed);
      for (const d of images) {
        const m = (await store.getManifest(k('r'), d.digest, signal))!;
        const expected: ImageDetail = {
          digest: d.digest, tags: tags.get(d.digest)!, mediaType: OCI_MANIFEST, manifestSize: m.size,
          imageSize: d.digest === two.digest ? 5 : 2100, pushedAt: m.pushedAt,
        };
        if (d.digest === three.digest) expected.artifactType = 'application/spdx+json';
        assert.deepEqual(d, expected);
        assert.ok(!('lastPulledAt' in d) && (d.digest === three.digest || !('artifactType' in d)));
      }
      assert.deepEqual(images.find((d) => d.digest === one.digest)?.tags, ['v1', 'latest']);
      const times = images.map((d) => d.pushedAt.getTime());
      assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]!), `push times are not strictly increasing: ${times.join(', ')}`);
    });

    it('a tag moved to another image counts as applied when moved: it goes last on its new image', async () => {
      const store = current();
      const { one, four } = await fourImages(store);
      await store.putManifest({ ...four.input, tag: 'v1' }, signal);
      await store.putManifest({ ...four.input, tag: 'a' }, signal); // already there: order unchanged
      const { images } = await store.describeImages(k('r'), { digests: [four.digest, one.digest], limit: 10 }, signal);
      assert.deepEqual(images.map((d) => d.tags), [['a', '_x', 'A', 'v1'], ['latest']]);
    });

    it('pages in push order with `next` only while more remain, and TAGGED/UNTAGGED filter before paging', async () => {
      const { pushed, three } = await fourImages(current());
      const all = await detailPages(3, 'ANY');
      assert.deepEqual(all.map((p) => p.length), [3, 1]);
      assert.deepEqual(all.flat().map((d) => d.digest), pushed);
      const tagged = await detailPages(2, 'TAGGED');
      assert.deepEqual(tagged.map((p) => p.length), [2, 1]);
      assert.deepEqual(tagged.flat().map((d) => d.digest), pushed.filter((d) => d !== three.digest));
      assert.deepEqual((await detailPages(1, 'UNTAGGED')).flat().map((d) => d.digest), [three.digest]);
      assert.deepEqual((await detailPages(4, undefined)).map((p) => p.length), [4]);
    });

    it('with `digests` returns exactly the known ones in the order given, once each, filtered, without paging', async () => {
      const store = current();
      const { one, three, four } = await fourImages(store);
      const unknown = digestOf('unknown');
      const got = await store.describeImages(k('r'), { digests: [four.digest, unknown, one.digest, four.digest], limit: 1 }, signal);
      assert.deepEqual(got.images.map((d) => d.digest), [four.digest, one.digest]);
      assert.equal(got.next, undefined);
      assert.deepEqual(got.images[0]?.tags, ['a', '_x', 'A']);
      const untagged = await store.describeImages(k('r'), { digests: [one.digest, three.digest], filter: 'UNTAGGED', limit: 10 }, signal);
      assert.deepEqual(untagged.images.map((d) => d.digest), [three.digest]);
      assert.deepEqual((await store.describeImages(k('r'), { digests: [], limit: 10 }, signal)).images, []);
    });

    it('keeps the image size of the first put when the same digest is put again', async () => {
      const store = current();
      const { input } = await pushImage(store, 'r', 'one');
      await store.putManifest({ ...input, imageSize: 9, tag: 'v2' }, signal);
      const { images } = await store.describeImages(k('r'), { digests: [input.digest], limit: 10 }, signal);
      assert.equal(images[0]?.imageSize, 2100);
      assert.deepEqual(images[0]?.tags, ['v2']);
    });

    it('throws RepositoryNotFound for an unknown repository and InvalidParameter for a bad cursor', async () => {
      await current().createRepository(k('r'), signal);
      await rejectsWith(current().describeImages(k('nope'), { limit: 10 }, signal), 'RepositoryNotFound');
      await rejectsWith(current().describeImages(k('nope'), { digests: [digestOf('x')], limit: 10 }, signal), 'RepositoryNotFound');
      await rejectsWith(current().describeImages(k('r'), { after: 'bm9wZQ', limit: 10 }, signal), 'InvalidParameter');
    });
  });

  describe('recordPull', () => {
    const lastPulled = async (digest: Digest) =>
      (await current().describeImages(k('r'), { digests: [digest], limit: 1 }, signal)).images[0]?.lastPulledAt?.getTime();

    it('records the pull time, skips pulls less than 60 s after the recorded one, and never moves it back', async () => {
      const store = current();
      const { digest } = await pushImage(store, 'r', 'one');
      const { digest: other } = await pushImage(store, 'r', 'two');
      const t0 = Date.UTC(2024, 0, 1);
      await store.recordPull(k('r'), digest, new Date(t0), signal);
      assert.equal(await lastPulled(digest), t0);
      await store.recordPull(k('r'), digest, new Date(t0 + 59_999), signal);
      assert.equal(await lastPulled(digest), t0);
      await store.recordPull(k('r'), digest, new Date(t0 + 60_000), signal);
      assert.equal(await lastPulled(digest), t0 + 60_000);
      await store.recordPull(k('r'), digest, new Date(t0 - 3_600_000), signal);
      assert.equal(await lastPulled(digest), t0 + 60_000);
      assert.equal(await lastPulled(other), undefined);
    });

    it('does not throw for an unknown repository or manifest', async () => {
      await current().createRepository(k('r'), signal);
      await current().recordPull(k('nope'), digestOf('m'), new Date(), signal);
      await current().recordPull(k('r'), digestOf('m'), new Date(), signal);
    });
  });
}
