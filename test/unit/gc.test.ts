/**
 * Online GC against the real SQLite metadata file and the filesystem blob store: what it keeps,
 * what it deletes, and the fence that stops a push linking bytes GC is deleting.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { asDigest, type Digest } from '../../src/core/digest.js';
import { isBerthError } from '../../src/core/errors.js';
import { LocalEventBus } from '../../src/core/events.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';
import { GarbageCollector } from '../../src/core/services/gc.js';
import { repoKey } from '../../src/core/repo-key.js';
import { RepositoryService } from '../../src/core/services/repositories.js';
import { UploadService } from '../../src/core/services/uploads.js';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { openSqliteGcStore } from '../../src/storage/meta/sqlite/sqlite-gc-store.js';
import { openSqliteMetaStore } from '../../src/storage/meta/sqlite/sqlite-meta-store.js';

const signal = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'berth-gc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const HOUR = 3_600_000;
const k = (name: string) => repoKey('000000000000', name);

async function setup() {
  const root = join(dir, `d${++n}`);
  const path = join(root, 'meta.db');
  const blobs = await FsBlobStore.open({ root });
  const meta = await openSqliteMetaStore({ path });
  const gcStore = await openSqliteGcStore({ path });
  const events = new LocalEventBus();
  const gc = new GarbageCollector(meta, blobs, gcStore, events);
  const put = async (bytes: Buffer, ageHours = 2): Promise<Digest> => {
    const digest = asDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    const id = `u${randomBytes(6).toString('hex')}`;
    await blobs.appendUpload(id, 0, Readable.from([bytes]), signal);
    await blobs.commitUpload(id, digest, signal);
    const t = new Date(Date.now() - ageHours * HOUR);
    utimesSync(join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7)), t, t);
    return digest;
  };
  return { root, path, blobs, meta, gcStore, gc, events, put };
}

describe('online garbage collection', () => {
  it('deletes old unreferenced links and bytes; keeps referenced, young and linked ones; a dry run changes nothing', async () => {
    const { meta, blobs, gc, put, events } = await setup();
    await meta.createRepository(k('r'), signal);
    const referenced = await put(Buffer.from('referenced'));
    const orphan = await put(Buffer.from('orphan bytes'));
    const young = await put(Buffer.from('young bytes'), 0);
    const unreferencedLink = await put(Buffer.from('unreferenced link'));
    for (const d of [referenced, unreferencedLink]) await meta.linkBlob(k('r'), d, 1, signal);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [referenced] }));
    await meta.putManifest({ repository: k('r'), digest: asDigest(`sha256:${createHash('sha256').update(body).digest('hex')}`), mediaType: 'application/vnd.oci.image.manifest.v1+json', body, imageSize: 1, blobs: [referenced], manifests: [] }, signal);

    const dry = await gc.run({ graceMs: HOUR, uploadMaxAgeMs: 24 * HOUR, dryRun: true }, signal);
    // The link was just created (younger than the grace period), so only the orphan goes.
    assert.deepEqual([dry.linksDeleted, dry.blobsDeleted], [0, 1]);
    assert.ok(await blobs.stat(orphan, signal), 'a dry run deleted bytes');

    const seen: string[] = [];
    events.subscribe((e) => seen.push(e.type));
    const real = await gc.run({ graceMs: HOUR, uploadMaxAgeMs: 24 * HOUR }, signal);
    assert.deepEqual([real.linksDeleted, real.blobsDeleted, real.bytesReclaimed], [0, 1, 'orphan bytes'.length]);
    assert.equal(await blobs.stat(orphan, signal), undefined);
    for (const d of [referenced, young, unreferencedLink]) assert.ok(await blobs.stat(d, signal), `kept ${d}`);
    assert.deepEqual(seen, ['gc.completed']);

    // With no grace, the unreferenced link goes, then its bytes; the referenced blob stays.
    const all = await gc.run({ graceMs: -1, uploadMaxAgeMs: 24 * HOUR }, signal);
    assert.equal(all.linksDeleted, 1);
    assert.equal(await meta.getBlobLink(k('r'), unreferencedLink, signal), undefined);
    assert.equal(await blobs.stat(unreferencedLink, signal), undefined);
    assert.equal(await blobs.stat(young, signal), undefined);
    assert.ok(await blobs.stat(referenced, signal));
    assert.deepEqual(await meta.getBlobLink(k('r'), referenced, signal), { size: 1 });
  });

  it('a fenced blob cannot be linked (the push is told to retry); a linked blob is never fenced', async () => {
    const { meta, gcStore, put } = await setup();
    await meta.createRepository(k('r'), signal);
    const free = await put(Buffer.from('free'));
    const linked = await put(Buffer.from('linked'));
    await meta.linkBlob(k('r'), linked, 6, signal);
    assert.deepEqual(await gcStore.fence([free, linked], new Date(), signal), [free]);
    await assert.rejects(meta.linkBlob(k('r'), free, 4, signal), (e: unknown) => isBerthError(e) && e.code === 'Unavailable');
    assert.deepEqual(await gcStore.fenced(signal), [free]);
    await gcStore.unfence([free], signal);
    await meta.linkBlob(k('r'), free, 4, signal);
    assert.deepEqual(await gcStore.fence([free], new Date(), signal), []);
  });

  it('a GC that died after fencing: the next run deletes the fenced bytes and lifts the fence', async () => {
    const { meta, blobs, gcStore, gc, put } = await setup();
    await meta.createRepository(k('r'), signal);
    const d = await put(Buffer.from('half deleted'), 0);
    await gcStore.fence([d], new Date(), signal);
    await gc.run({ graceMs: HOUR, uploadMaxAgeMs: HOUR }, signal);
    assert.equal(await blobs.stat(d, signal), undefined);
    assert.deepEqual(await gcStore.fenced(signal), []);
  });

  it('a push whose bytes vanished between commit and link is undone and told to retry', async () => {
    const { meta, blobs } = await setup();
    const events = new LocalEventBus();
    const repos = new RepositoryService(meta, events);
    await meta.createRepository(k('gc/r'), signal);
    // The bytes "exist" at commit (a no-op) but are gone by the time the push checks after linking.
    const vanishing = new Proxy(blobs, {
      get: (target, prop) => (prop === 'stat' ? async () => undefined : (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target)),
    }) as BlobStore;
    const uploads = new UploadService(meta, vanishing, repos, events, { maxBlobBytes: 1 << 20 });
    const bytes = Buffer.from('vanishing');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await assert.rejects(uploads.monolithic(k('gc/r'), digest, Readable.from([bytes]), bytes.length, false, signal), (e: unknown) => isBerthError(e) && e.code === 'Unavailable');
    assert.equal(await meta.getBlobLink(k('gc/r'), asDigest(digest), signal), undefined);
  });

  it('sweeps upload sessions idle past their limit with their staged bytes, and staged bytes with no session', async () => {
    const { root, meta, blobs, gc } = await setup();
    await meta.createRepository(k('r'), signal);
    await meta.createUpload({ id: 'fresh', repository: k('r') }, signal);
    await blobs.appendUpload('fresh', 0, Readable.from([Buffer.from('x')]), signal);
    await blobs.appendUpload('orphan-staged', 0, Readable.from([Buffer.from('yy')]), signal);
    const t = new Date(Date.now() - 48 * HOUR);
    utimesSync(join(root, 'uploads', 'orphan-staged'), t, t);
    const r = await gc.run({ graceMs: HOUR, uploadMaxAgeMs: 24 * HOUR }, signal);
    assert.equal(r.uploadsSwept, 1);
    assert.equal(await blobs.uploadSize('orphan-staged', signal), undefined);
    assert.equal(await blobs.uploadSize('fresh', signal), 1);
    const all = await gc.run({ graceMs: HOUR, uploadMaxAgeMs: -1 }, signal);
    assert.equal(all.uploadsSwept, 1);
    assert.equal(await meta.getUpload(k('r'), 'fresh', signal), undefined);
    assert.equal(await blobs.uploadSize('fresh', signal), undefined);
  });
});
