/** Manifest, tag, referrer and iteration parts of the MetaStore contract. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { fail } from '../../src/core/errors.js';
import type { MetaStore, PutManifestInput } from '../../src/core/ports/meta-store.js';
import { collect, digestOf, manifest, OCI_INDEX, OCI_MANIFEST, pushImage, rejectsWith, signal, k } from './meta-store-helpers.js';

/** Registers the manifest tests; `current` returns the store opened for the running test. */
export function manifestContract(current: () => MetaStore): void {
  const image = (repository: string, label: string, extra: Partial<PutManifestInput> = {}) =>
    pushImage(current(), repository, label, extra);

  describe('manifests', () => {
    it('putManifest throws RepositoryNotFound for an unknown repository', async () => {
      await rejectsWith(current().putManifest(manifest('nope', 'm'), signal), 'RepositoryNotFound');
    });

    it('putManifest stores every field and getManifest returns them', async () => {
      const store = current();
      const subject = digestOf('subject');
      const before = Date.now();
      const { input, result } = await image('r', 'one', {
        artifactType: 'application/x-sbom', subject, annotations: { 'org.example': 'v' },
      });
      assert.deepEqual(result, { created: true });
      const got = await store.getManifest(k('r'), input.digest, signal);
      assert.ok(got);
      assert.ok(got.pushedAt.getTime() >= before && got.pushedAt.getTime() <= Date.now());
      assert.deepEqual(got, {
        repository: k('r'), digest: input.digest, mediaType: OCI_MANIFEST, size: input.body.byteLength,
        body: new Uint8Array(input.body), artifactType: 'application/x-sbom', subject,
        annotations: { 'org.example': 'v' }, pushedAt: got.pushedAt,
      });
    });

    it('getManifest omits artifactType, subject and annotations the manifest did not have', async () => {
      const { digest } = await image('r', 'plain');
      const got = await current().getManifest(k('r'), digest, signal);
      assert.ok(got);
      assert.deepEqual(Object.keys(got).sort(), ['body', 'digest', 'mediaType', 'pushedAt', 'repository', 'size']);
    });

    it('putManifest throws ManifestBlobUnknown listing every missing blob and child manifest, and writes nothing', async () => {
      const store = current();
      const { layer } = await image('r', 'base');
      const missingBlob = digestOf('missing-blob');
      const missingChild = digestOf('missing-child');
      const input = manifest('r', 'broken', {
        blobs: [layer, missingBlob], manifests: [missingChild], tag: 'latest', subject: digestOf('subject'),
      });
      await rejectsWith(store.putManifest(input, signal), 'ManifestBlobUnknown', { missing: [missingBlob, missingChild] });
      assert.equal(await store.getManifest(k('r'), input.digest, signal), undefined);
      assert.equal(await store.resolveTag(k('r'), 'latest', signal), undefined);
      assert.deepEqual(await store.listReferrers(k('r'), digestOf('subject'), undefined, signal), []);
      assert.ok(!(await collect(store.listBlobReferences(signal))).some((r) => r.manifest === input.digest));
    });

    it('putManifest counts a blob linked only in another repository as missing', async () => {
      const store = current();
      const { layer } = await image('other', 'x');
      await store.createRepository(k('r'), signal);
      await rejectsWith(store.putManifest(manifest('r', 'm', { blobs: [layer] }), signal), 'ManifestBlobUnknown', { missing: [layer] });
    });

    it('putManifest of an already stored digest is idempotent: created=false and the original pushedAt stays', async () => {
      const store = current();
      const { input } = await image('r', 'one');
      const first = await store.getManifest(k('r'), input.digest, signal);
      await sleep(3);
      assert.deepEqual(await store.putManifest(input, signal), { created: false });
      assert.deepEqual(await store.getManifest(k('r'), input.digest, signal), first);
      assert.equal((await collect(store.listBlobReferences(signal))).length, 2);
    });

    it('getManifest hands out copies: mutating the input or a result does not change the stored manifest', async () => {
      const store = current();
      const { input } = await image('r', 'one', { annotations: { a: '1' } });
      const original = new Uint8Array(input.body);
      input.body.fill(0);
      input.annotations!['a'] = 'changed';
      const got = await store.getManifest(k('r'), input.digest, signal);
      assert.ok(got);
      assert.deepEqual(got.body, original);
      assert.deepEqual(got.annotations, { a: '1' });
      got.body.fill(1);
      got.annotations!['a'] = 'mutated';
      const again = await store.getManifest(k('r'), input.digest, signal);
      assert.deepEqual(again?.body, original);
      assert.deepEqual(again?.annotations, { a: '1' });
    });

    it('getManifest and resolveTag return undefined for an unknown repository, digest or tag', async () => {
      const store = current();
      const { digest } = await image('r', 'one', { tag: 'v1' });
      assert.equal(await store.getManifest(k('nope'), digest, signal), undefined);
      assert.equal(await store.getManifest(k('r'), digestOf('other'), signal), undefined);
      assert.equal(await store.resolveTag(k('nope'), 'v1', signal), undefined);
      assert.equal(await store.resolveTag(k('r'), 'v2', signal), undefined);
    });
  });

  describe('tags', () => {
    it('putManifest with a new tag points it at the digest without calling beforeTagMove', async () => {
      let calls = 0;
      const { digest, result } = await image('r', 'one', { tag: 'latest', beforeTagMove: () => { calls++; } });
      assert.deepEqual(result, { created: true });
      assert.equal(await current().resolveTag(k('r'), 'latest', signal), digest);
      assert.equal(calls, 0);
    });

    it('re-putting a tag that already points at the digest neither reports previous nor calls beforeTagMove', async () => {
      const { input } = await image('r', 'one', { tag: 'latest' });
      let calls = 0;
      const again = await current().putManifest({ ...input, beforeTagMove: () => { calls++; } }, signal);
      assert.deepEqual(again, { created: false });
      assert.equal(calls, 0);
    });

    it('moving a tag calls beforeTagMove(tag, from, to) and reports the previous digest', async () => {
      const store = current();
      const one = await image('r', 'one', { tag: 'latest' });
      const seen: [string, Digest, Digest][] = [];
      const two = await image('r', 'two', { tag: 'latest', beforeTagMove: (t, f, to) => { seen.push([t, f, to]); } });
      assert.deepEqual(two.result, { created: true, previous: one.digest });
      assert.deepEqual(seen, [['latest', one.digest, two.digest]]);
      assert.equal(await store.resolveTag(k('r'), 'latest', signal), two.digest);
      assert.ok(await store.getManifest(k('r'), one.digest, signal), 'the old manifest stays');
    });

    it('re-putting an existing digest under a tag moves the tag with created=false', async () => {
      const store = current();
      const one = await image('r', 'one', { tag: 'v1' });
      const two = await image('r', 'two', { tag: 'latest' });
      assert.deepEqual(await store.putManifest({ ...one.input, tag: 'latest' }, signal), { created: false, previous: two.digest });
      assert.equal(await store.resolveTag(k('r'), 'latest', signal), one.digest);
    });

    it('a beforeTagMove that throws rejects with its error, keeps the old tag and stores nothing', async () => {
      const store = current();
      const one = await image('r', 'one', { tag: 'latest' });
      const refusal = fail('InvalidTag', 'tag is immutable');
      const input = manifest('r', 'two', { blobs: [one.layer], tag: 'latest', beforeTagMove: () => { throw refusal; } });
      await assert.rejects(store.putManifest(input, signal), (e) => e === refusal);
      assert.equal(await store.resolveTag(k('r'), 'latest', signal), one.digest);
      assert.equal(await store.getManifest(k('r'), input.digest, signal), undefined);
      assert.deepEqual((await collect(store.listBlobReferences(signal))).map((r) => r.manifest), [one.digest, one.digest]);
    });

    it('deleteTag removes only that tag and keeps the manifest; false when the tag is absent', async () => {
      const store = current();
      const { digest } = await image('r', 'one', { tag: 'a' });
      await store.putManifest(manifest('r', 'one', { tag: 'b' }), signal);
      assert.equal(await store.deleteTag(k('r'), 'a', signal), true);
      assert.equal(await store.deleteTag(k('r'), 'a', signal), false);
      assert.equal(await store.deleteTag(k('nope'), 'b', signal), false);
      assert.equal(await store.resolveTag(k('r'), 'a', signal), undefined);
      assert.equal(await store.resolveTag(k('r'), 'b', signal), digest);
      assert.ok(await store.getManifest(k('r'), digest, signal));
    });

    it('listTags returns tags in byte order, pages strictly after `last`, and limit 0 returns nothing', async () => {
      const store = current();
      const { input } = await image('r', 'one');
      for (const tag of ['v2', 'V1', 'latest', 'v1.0', 'v1-rc', 'v1_0', '1']) await store.putManifest({ ...input, tag }, signal);
      await image('s', 'other', { tag: 'zzz' });
      const all = ['1', 'V1', 'latest', 'v1-rc', 'v1.0', 'v1_0', 'v2'];
      assert.deepEqual(await store.listTags(k('r'), { limit: 100 }, signal), all);
      assert.deepEqual(await store.listTags(k('r'), { limit: 3 }, signal), all.slice(0, 3));
      assert.deepEqual(await store.listTags(k('r'), { last: 'latest', limit: 3 }, signal), all.slice(3, 6));
      assert.deepEqual(await store.listTags(k('r'), { last: 'v1_0', limit: 3 }, signal), ['v2']);
      assert.deepEqual(await store.listTags(k('r'), { last: 'v2', limit: 3 }, signal), []);
      assert.deepEqual(await store.listTags(k('r'), { last: 'm', limit: 100 }, signal), all.slice(3));
      assert.deepEqual(await store.listTags(k('r'), { limit: 0 }, signal), []);
      assert.deepEqual(await store.listTags(k('nope'), { limit: 10 }, signal), []);
    });
  });

  describe('deleting manifests', () => {
    it('deleteManifest removes the manifest and every tag pointing at it, returning those tags in byte order', async () => {
      const store = current();
      const one = await image('r', 'one', { tag: 'b' });
      await store.putManifest({ ...one.input, tag: 'a' }, signal);
      const two = await image('r', 'two', { tag: 'c' });
      assert.deepEqual(await store.deleteManifest(k('r'), one.digest, signal), { tags: ['a', 'b'] });
      assert.equal(await store.getManifest(k('r'), one.digest, signal), undefined);
      assert.deepEqual(await store.listTags(k('r'), { limit: 10 }, signal), ['c']);
      assert.equal(await store.resolveTag(k('r'), 'c', signal), two.digest);
      assert.deepEqual(await store.deleteManifest(k('r'), two.digest, signal), { tags: ['c'] });
    });

    it('deleteManifest returns undefined for an unknown manifest or repository', async () => {
      const store = current();
      const { digest } = await image('r', 'one');
      assert.equal(await store.deleteManifest(k('r'), digestOf('unknown'), signal), undefined);
      assert.equal(await store.deleteManifest(k('nope'), digest, signal), undefined);
      assert.deepEqual(await store.deleteManifest(k('r'), digest, signal), { tags: [] });
      assert.equal(await store.deleteManifest(k('r'), digest, signal), undefined);
    });

    it('deleteManifest throws ManifestReferenced while an index lists it, and works once the index is gone', async () => {
      const store = current();
      const amd64 = await image('r', 'amd64', { tag: 'amd64' });
      const arm64 = await image('r', 'arm64');
      const index = manifest('r', 'index', { mediaType: OCI_INDEX, manifests: [amd64.digest, arm64.digest], tag: 'latest' });
      assert.deepEqual(await store.putManifest(index, signal), { created: true });
      await rejectsWith(store.deleteManifest(k('r'), amd64.digest, signal), 'ManifestReferenced');
      assert.ok(await store.getManifest(k('r'), amd64.digest, signal));
      assert.equal(await store.resolveTag(k('r'), 'amd64', signal), amd64.digest);
      assert.deepEqual(await store.deleteManifest(k('r'), index.digest, signal), { tags: ['latest'] });
      assert.deepEqual(await store.deleteManifest(k('r'), amd64.digest, signal), { tags: ['amd64'] });
      assert.deepEqual(await store.deleteManifest(k('r'), arm64.digest, signal), { tags: [] });
      assert.equal(await store.unlinkBlob(k('r'), arm64.layer, signal), true);
    });

    it('an index in another repository does not pin a manifest', async () => {
      const store = current();
      const a = await image('r', 'one');
      await image('s', 'one');
      await store.putManifest(manifest('s', 'index', { mediaType: OCI_INDEX, manifests: [a.digest] }), signal);
      assert.deepEqual(await store.deleteManifest(k('r'), a.digest, signal), { tags: [] });
    });
  });

  describe('referrers', () => {
    it('listReferrers returns manifests whose subject matches, ordered by digest, filtered by artifactType when given', async () => {
      const store = current();
      const subject = await image('r', 'subject');
      const sig = manifest('r', 'sig', { subject: subject.digest, artifactType: 'application/x-sig', annotations: { k: 'v' } });
      const sbom = manifest('r', 'sbom', { subject: subject.digest, artifactType: 'application/x-sbom' });
      const bare = manifest('r', 'bare', { subject: subject.digest });
      const elsewhere = manifest('r', 'elsewhere', { subject: digestOf('other-subject'), artifactType: 'application/x-sig' });
      for (const m of [sig, sbom, bare, elsewhere]) await store.putManifest(m, signal);
      await image('s', 'subject');
      await store.putManifest(manifest('s', 'sig', { subject: subject.digest, artifactType: 'application/x-sig' }), signal);

      const expected = [
        { mediaType: OCI_MANIFEST, digest: sig.digest, size: sig.body.byteLength, artifactType: 'application/x-sig', annotations: { k: 'v' } },
        { mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.body.byteLength, artifactType: 'application/x-sbom' },
        { mediaType: OCI_MANIFEST, digest: bare.digest, size: bare.body.byteLength },
      ].sort((a, b) => (a.digest < b.digest ? -1 : 1));
      assert.deepEqual(await store.listReferrers(k('r'), subject.digest, undefined, signal), expected);
      assert.deepEqual(await store.listReferrers(k('r'), subject.digest, 'application/x-sig', signal), [expected.find((e) => e.digest === sig.digest)]);
      assert.deepEqual(await store.listReferrers(k('r'), subject.digest, 'application/x-none', signal), []);
      assert.deepEqual(await store.listReferrers(k('nope'), subject.digest, undefined, signal), []);
    });

    it('listReferrers lists referrers pushed before their subject exists', async () => {
      const store = current();
      await store.createRepository(k('r'), signal);
      const sig = manifest('r', 'sig', { subject: digestOf('later'), artifactType: 'application/x-sig' });
      await store.putManifest(sig, signal);
      assert.deepEqual((await store.listReferrers(k('r'), digestOf('later'), undefined, signal)).map((r) => r.digest), [sig.digest]);
    });
  });

  describe('iteration for fsck and garbage collection', () => {
    it('listBlobReferences yields every (repository, manifest, blob) once, and listLinkedBlobs every linked digest once', async () => {
      const store = current();
      const r = await image('r', 'one', { blobs: [] });
      const rBlobs = [r.config, r.layer];
      await store.putManifest(manifest('r', 'two', { blobs: [r.layer, r.layer] }), signal);
      const s = await image('s', 'one');
      const refs = await collect(store.listBlobReferences(signal));
      const key = (x: { repository: string; manifest: string; blob: string }) => `${x.repository} ${x.manifest} ${x.blob}`;
      assert.deepEqual(refs.map(key).sort(), [
        { repository: k('r'), manifest: digestOf('manifest:two'), blob: r.layer },
        { repository: k('s'), manifest: s.digest, blob: s.config },
        { repository: k('s'), manifest: s.digest, blob: s.layer },
      ].map(key).sort());
      const linked = await collect(store.listLinkedBlobs(signal));
      assert.deepEqual(linked.map((b) => b.digest).sort(), [...rBlobs].sort());
      assert.deepEqual(linked.find((b) => b.digest === r.layer), { digest: r.layer, size: 2000 });
    });

    it('listBlobReferences and listLinkedBlobs yield everything when there are more rows than fit one page', async () => {
      const store = current();
      await store.createRepository(k('r'), signal);
      const blobs = Array.from({ length: 1234 }, (_, i) => digestOf(`bulk:${i}`));
      for (const [i, d] of blobs.entries()) await store.linkBlob(k('r'), d, i, signal);
      await store.putManifest(manifest('r', 'big', { blobs }), signal);
      const refs = await collect(store.listBlobReferences(signal));
      assert.deepEqual(refs.map((x) => x.blob).sort(), [...blobs].sort());
      const linked = await collect(store.listLinkedBlobs(signal));
      assert.equal(linked.length, blobs.length);
      assert.equal(new Set(linked.map((b) => b.digest)).size, blobs.length);
    });
  });
}
