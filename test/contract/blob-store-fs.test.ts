import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { blobStoreContract, blobTest } from './blob-store.contract.js';

const { never, digestOf, body, collect, put } = blobTest;

let base = '';
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-blob-fs-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  return mkdtemp(join(base, 'store-'));
}

blobStoreContract('fs', async () => FsBlobStore.open({ root: await freshRoot() }));

describe('FsBlobStore specifics', () => {
  it('never shows a blob before commitUpload even though its bytes are staged on disk', async () => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    const bytes = randomBytes(10_000);
    const digest = digestOf(bytes);
    const hex = digest.slice('sha256:'.length);
    const id = randomUUID();
    await store.appendUpload(id, 0, body(bytes), never);
    assert.equal((await stat(join(root, 'uploads', id))).size, 10_000);
    assert.equal(await store.stat(digest, never), undefined);
    assert.deepEqual(await collect(store.list(never)), []);
    await assert.rejects(stat(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex)), { code: 'ENOENT' });
    await store.commitUpload(id, digest, never);
    assert.equal((await stat(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex))).size, 10_000);
    assert.deepEqual(await readdir(join(root, 'uploads')), []);
  });

  it('lays blobs out as blobs/<alg>/<hex[0:2]>/<hex>', async () => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    const digest = await put(store, Buffer.from('layout'));
    const hex = digest.slice('sha256:'.length);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), [hex.slice(0, 2)]);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256', hex.slice(0, 2))), [hex]);
  });

  it('skips files not shaped like blobs or uploads when listing', async () => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    const digest = await put(store, Buffer.from('real'));
    const hex = digest.slice('sha256:'.length);
    const prefixDir = join(root, 'blobs', 'sha256', hex.slice(0, 2));
    await writeFile(join(prefixDir, `${hex}.tmp`), 'x');
    await writeFile(join(prefixDir, 'f'.repeat(64)), 'wrong prefix');
    await mkdir(join(root, 'blobs', 'sha256', 'zz'));
    await mkdir(join(root, 'blobs', 'md5', 'ab'), { recursive: true });
    await writeFile(join(root, 'uploads', '.tmp.partial'), 'x');
    await mkdir(join(root, 'uploads', 'a-directory'));
    assert.deepEqual((await collect(store.list(never))).map((b) => b.digest), [digest]);
    assert.deepEqual(await collect(store.listUploads(never)), []);
  });

  it('reopening the same root sees previously committed blobs and staged uploads', async () => {
    const root = await freshRoot();
    const first = await FsBlobStore.open({ root });
    const digest = await put(first, Buffer.from('persisted'));
    const id = randomUUID();
    await first.appendUpload(id, 0, body(Buffer.from('half')), never);
    await first.close();
    const second = await FsBlobStore.open({ root });
    assert.deepEqual(await second.stat(digest, never), { size: 9 });
    assert.equal(await second.uploadSize(id, never), 4);
  });

  it('pipeTo hands over every byte (and exact ranges) even when each write finishes late, reusing its buffers safely', async () => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    const data = randomBytes(3 * 1024 * 1024 + 12345);
    const digest = await put(store, data);
    const collectSlowly = async (range?: { start: number; end: number }) => {
      const parts: Buffer[] = [];
      await store.pipeTo(digest, range, async (chunk) => {
        await new Promise((done) => setTimeout(done, 5));
        // Copied only now: a buffer reused before this write resolved would show up as corrupt data.
        parts.push(Buffer.from(chunk));
      }, never);
      return Buffer.concat(parts);
    };
    assert.ok((await collectSlowly()).equals(data));
    assert.ok((await collectSlowly({ start: 1, end: 1024 * 1024 + 7 })).equals(data.subarray(1, 1024 * 1024 + 8)));
    assert.ok((await collectSlowly({ start: data.length - 1, end: data.length - 1 })).equals(data.subarray(data.length - 1)));
    await assert.rejects(store.pipeTo(`sha256:${'0'.repeat(64)}` as typeof digest, undefined, async () => {}, never), { code: 'BlobNotFound' });
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(store.pipeTo(digest, undefined, async () => {}, aborted.signal));
  });

  it('pipeTo rejects with a failed write (a client gone mid-download) without leaving the rejection unhandled meanwhile', async () => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    const digest = await put(store, randomBytes(3 * 1024 * 1024 + 1));
    const unhandled: unknown[] = [];
    const note = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', note);
    try {
      // The write fails at once; the store reads its next chunk before it awaits that write.
      await assert.rejects(store.pipeTo(digest, undefined, () => Promise.reject(new Error('socket closed')), never), /socket closed/);
      await new Promise((done) => setTimeout(done, 50));
    } finally {
      process.off('unhandledRejection', note);
    }
    assert.deepEqual(unhandled, []);
  });
});
