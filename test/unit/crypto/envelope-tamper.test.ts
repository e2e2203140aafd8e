// Blob envelopes on a real file system: tampering is detected (an error, never wrong bytes) and
// range reads across segment boundaries are exact.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsBlobStore } from '../../../src/storage/blob/fs/fs-blob-store.js';
import { HEADER_BYTES, OVERHEAD, SEGMENT_BYTES, segmentOffset } from '../../../src/crypto/blob/segments.js';
import { blobTest } from '../../contract/blob-store.contract.js';
import { encrypted } from '../../contract/encrypted-helpers.js';

const { never, readAll, put } = blobTest;
const S = SEGMENT_BYTES;

describe('encrypted blob envelopes on disk', () => {
  let root = '';
  let store: Awaited<ReturnType<typeof encrypted>>;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-envelope-'));
    store = await encrypted(await FsBlobStore.open({ root }));
  });
  after(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  const pathOf = (digest: string) => join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
  /** A fresh blob of `n` random bytes; returns digest, plaintext and file path. */
  async function fresh(n: number) {
    const plain = randomBytes(n);
    const digest = await put(store, plain);
    return { digest, plain, file: pathOf(digest) };
  }
  const readBack = async (digest: string, range?: { start: number; end: number }) => readAll(await store.read(digest as never, range, never));
  const pipeBack = async (digest: string, range?: { start: number; end: number }) => {
    const parts: Buffer[] = [];
    await store.pipeTo(digest as never, range, async (c) => { parts.push(Buffer.from(c)); }, never);
    return Buffer.concat(parts);
  };
  const corrupt = (e: unknown) => e instanceof Error && 'code' in e && e.code === 'Internal';

  it('stores a 3.5-segment blob as header + 4 sealed segments and reads it back', async () => {
    const { digest, plain, file } = await fresh(3 * S + S / 2);
    assert.equal((await readFile(file)).length, HEADER_BYTES + 3 * (S + OVERHEAD) + S / 2 + OVERHEAD);
    assert.ok((await readBack(digest)).equals(plain));
    assert.ok((await pipeBack(digest)).equals(plain));
    assert.equal((await store.stat(digest as never, never))?.size, plain.length);
  });

  it('range reads are exact at and across every segment boundary (read and pipeTo)', async () => {
    const { digest, plain } = await fresh(3 * S + 1000);
    const ranges = [[0, 0], [S - 1, S], [S - 1, S - 1], [S, S], [S - 10, 2 * S + 10], [2 * S - 1, 3 * S], [3 * S, 3 * S + 999], [0, 3 * S + 999], [5, S - 5], [3 * S + 999, 3 * S + 999]];
    for (const [start, end] of ranges) {
      const want = plain.subarray(start!, end! + 1);
      assert.ok((await readBack(digest, { start: start!, end: end! })).equals(want), `read ${start}-${end}`);
      assert.ok((await pipeBack(digest, { start: start!, end: end! })).equals(want), `pipeTo ${start}-${end}`);
    }
  });

  it('an exact multiple of the segment size ends with an empty last segment and reads back', async () => {
    const { digest, plain, file } = await fresh(2 * S);
    assert.equal((await readFile(file)).length, HEADER_BYTES + 3 * OVERHEAD + 2 * S);
    assert.ok((await readBack(digest)).equals(plain));
  });

  for (const [what, at] of [['the header', 20], ['the header magic', 2], ['a nonce', segmentOffset(1) + 3], ['a ciphertext byte', segmentOffset(1) + 500], ['a tag', segmentOffset(2) - 1]] as const) {
    it(`a flipped bit in ${what} is detected, never returned as data`, async () => {
      const { digest, file } = await fresh(2 * S + 77);
      const bytes = await readFile(file);
      bytes[at] = bytes[at]! ^ 0x01;
      await writeFile(file, bytes);
      // A fresh process (no cached header) must notice too.
      const cold = store.reopen(await FsBlobStore.open({ root }));
      await assert.rejects(async () => readAll(await cold.read(digest, undefined, never)), (e) => corrupt(e) || (e instanceof Error && /no recorded data key/.test(e.message)));
      if (at >= HEADER_BYTES) {
        // With the header cached from the push, a damaged segment is still caught.
        await assert.rejects(readBack(digest), corrupt);
        await assert.rejects(pipeBack(digest), corrupt);
      }
    });
  }

  for (const cut of [1, OVERHEAD, 77 + OVERHEAD, 77 + OVERHEAD + 1, S + OVERHEAD + 77 + OVERHEAD]) {
    it(`a file truncated by ${cut} bytes is detected`, async () => {
      const { digest, file, plain } = await fresh(2 * S + 77);
      const size = (await readFile(file)).length;
      await truncate(file, size - cut);
      await assert.rejects(readBack(digest), corrupt);
      await assert.rejects(pipeBack(digest, { start: 0, end: plain.length - 1 }), corrupt);
    });
  }

  it('swapped segments are detected', async () => {
    const { digest, file } = await fresh(3 * S);
    const bytes = await readFile(file);
    const a = Buffer.from(bytes.subarray(segmentOffset(0), segmentOffset(1)));
    bytes.copy(bytes, segmentOffset(0), segmentOffset(1), segmentOffset(2));
    a.copy(bytes, segmentOffset(1));
    await writeFile(file, bytes);
    await assert.rejects(readBack(digest), corrupt);
    await assert.rejects(readBack(digest, { start: S, end: S + 10 }), corrupt);
  });

  it('a segment spliced in from another blob is detected', async () => {
    const one = await fresh(2 * S);
    const two = await fresh(2 * S);
    const bytes = await readFile(one.file);
    (await readFile(two.file)).copy(bytes, segmentOffset(0), segmentOffset(0), segmentOffset(1));
    await writeFile(one.file, bytes);
    await assert.rejects(readBack(one.digest, { start: 0, end: 10 }), corrupt);
  });

  it('chunked uploads re-sealing a partial segment read back exactly', async () => {
    const id = randomUUID();
    const plain = randomBytes(3 * S + 123);
    const cuts = [0, 10, S - 1, S + 5, 2 * S, 2 * S + 1, plain.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      assert.equal(await store.appendUpload(id, cuts[i]!, blobTest.body(plain.subarray(cuts[i], cuts[i + 1])), never), cuts[i + 1]);
    }
    assert.ok((await readAll(await store.readUpload(id, never))).equals(plain));
    const digest = blobTest.digestOf(plain);
    await store.commitUpload(id, digest, never);
    assert.ok((await readBack(digest)).equals(plain));
  });
});
