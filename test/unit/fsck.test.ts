import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { asDigest } from '../../src/core/digest.js';
import { digestOf } from '../../src/core/manifest.js';
import { fsck, fsckFailed } from '../../src/core/services/fsck.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import { repoKey } from '../../src/core/repo-key.js';

const signal = new AbortController().signal;
const k = (name: string) => repoKey('000000000000', name);

async function store(blobs: MemoryBlobStore, id: string, bytes: Buffer, as?: string) {
  await blobs.appendUpload(id, 0, Readable.from([bytes]), signal);
  const digest = asDigest(as ?? digestOf(bytes));
  await blobs.commitUpload(id, digest, signal);
  return digest;
}

describe('fsck', () => {
  it('reports a consistent registry as consistent and lists orphans', async () => {
    const meta = new MemoryMetaStore();
    const blobs = new MemoryBlobStore();
    await meta.createRepository(k('fsck/app'), signal);
    const linked = await store(blobs, 'u1', Buffer.from('linked'));
    await meta.linkBlob(k('fsck/app'), linked, 6, signal);
    const orphan = await store(blobs, 'u2', Buffer.from('orphan'));
    const r = await fsck(meta, blobs, signal);
    assert.equal(fsckFailed(r), false);
    assert.deepEqual(r.orphans.map((o) => o.digest), [orphan]);
    assert.equal(r.checkedBlobs, 2);
  });

  it('finds missing, corrupt and mis-sized blobs', async () => {
    const meta = new MemoryMetaStore();
    const blobs = new MemoryBlobStore();
    await meta.createRepository(k('fsck/bad'), signal);
    const missing = digestOf(Buffer.from('never stored'));
    await meta.linkBlob(k('fsck/bad'), missing, 12, signal);
    const corrupt = await store(blobs, 'u3', Buffer.from('tampered'), digestOf(Buffer.from('original')));
    await meta.linkBlob(k('fsck/bad'), corrupt, 8, signal);
    const sized = await store(blobs, 'u4', Buffer.from('sized'));
    await meta.linkBlob(k('fsck/bad'), sized, 99, signal);
    const r = await fsck(meta, blobs, signal);
    assert.equal(fsckFailed(r), true);
    assert.deepEqual(r.missing.map((m) => m.digest), [missing]);
    assert.deepEqual(r.corrupt.map((c) => c.digest), [corrupt]);
    assert.deepEqual(r.sizeMismatch, [{ digest: sized, recorded: 99, stored: 5 }]);
  });
});
