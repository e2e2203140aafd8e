import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { asDigest, type Digest } from '../../src/core/digest.js';
import { isBerthError, type ErrorCode } from '../../src/core/errors.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';

const never = new AbortController().signal;

/** Helpers shared with implementation-specific suites. */
export const blobTest = {
  never,
  digestOf(bytes: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
    return asDigest(`${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`);
  },
  body(...chunks: Buffer[]): Readable {
    return Readable.from(chunks, { objectMode: false });
  },
  async readAll(stream: Readable): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return Buffer.concat(parts);
  },
  async collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of items) out.push(item);
    return out;
  },
  isCode(code: ErrorCode): (e: unknown) => boolean {
    return (e) => isBerthError(e) && e.code === code;
  },
  /** Stages `bytes` under a fresh upload id and commits it; returns the digest. */
  async put(store: BlobStore, bytes: Buffer): Promise<Digest> {
    const id = randomUUID();
    const digest = blobTest.digestOf(bytes);
    await store.appendUpload(id, 0, blobTest.body(bytes), never);
    await store.commitUpload(id, digest, never);
    return digest;
  },
};

const { digestOf, body, readAll, collect, isCode, put } = blobTest;

/** Emits `chunks`, then fails with `error` instead of ending. */
function failingBody(chunks: Buffer[], error: Error): Readable {
  let i = 0;
  return new Readable({
    read() {
      const next = chunks[i++];
      if (next) this.push(next);
      else this.destroy(error);
    },
  });
}

/** Emits `first` and then waits for more data that never comes. */
function stalledBody(first: Buffer): Readable {
  const stream = new Readable({ read() {} });
  stream.push(first);
  return stream;
}

/**
 * Registers the behaviour every {@link BlobStore} must have. `open` returns a fresh, empty store;
 * each test opens its own and closes it.
 */
export function blobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  async function withStore(fn: (store: BlobStore) => Promise<void>): Promise<void> {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`BlobStore contract: ${name}`, () => {
    describe('uploads', () => {
      it('appends several chunks in order and reports the running size', () =>
        withStore(async (s) => {
          const id = randomUUID();
          assert.equal(await s.appendUpload(id, 0, body(Buffer.from('hello ')), never), 6);
          assert.equal(await s.appendUpload(id, 6, body(Buffer.from('wor'), Buffer.from('ld')), never), 11);
          assert.equal(await s.appendUpload(id, 11, body(), never), 11);
          assert.equal(await s.uploadSize(id, never), 11);
          assert.equal((await readAll(await s.readUpload(id, never))).toString(), 'hello world');
        }));

      it('reads a staged upload from a byte offset (and nothing from its end)', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await s.appendUpload(id, 0, body(Buffer.from('hello ')), never);
          await s.appendUpload(id, 6, body(Buffer.from('world')), never);
          assert.equal((await readAll(await s.readUpload(id, never, 4))).toString(), 'o world');
          assert.equal((await readAll(await s.readUpload(id, never, 11))).toString(), '');
          if (s.uploadHead) assert.equal((await s.uploadHead(id, 5, never)).toString(), 'hello');
        }));

      it('commitUpload with replace swaps an existing blob\'s bytes; without it the existing blob stays', () =>
        withStore(async (s) => {
          const digest = await put(s, Buffer.from('original'));
          const keep = randomUUID();
          await s.appendUpload(keep, 0, body(Buffer.from('other')), never);
          await s.commitUpload(keep, digest, never);
          assert.equal((await readAll(await s.read(digest, undefined, never))).toString(), 'original');
          const swap = randomUUID();
          await s.appendUpload(swap, 0, body(Buffer.from('re-encoded')), never);
          await s.commitUpload(swap, digest, never, true);
          assert.equal((await readAll(await s.read(digest, undefined, never))).toString(), 're-encoded');
          assert.equal(await s.uploadSize(swap, never), undefined);
        }));

      it('creates an empty upload when the first append has no bytes', () =>
        withStore(async (s) => {
          const id = randomUUID();
          assert.equal(await s.appendUpload(id, 0, body(), never), 0);
          assert.equal(await s.uploadSize(id, never), 0);
        }));

      it('refuses an append beyond the staged size or at a negative offset and keeps the bytes', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await s.appendUpload(id, 0, body(Buffer.from('abc')), never);
          await assert.rejects(s.appendUpload(id, 4, body(Buffer.from('x')), never), isCode('UploadInvalid'));
          await assert.rejects(s.appendUpload(id, -1, body(Buffer.from('x')), never), isCode('UploadInvalid'));
          assert.equal((await readAll(await s.readUpload(id, never))).toString(), 'abc');
        }));

      it('an append below the staged size discards the unrecorded tail first (crash recovery)', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await s.appendUpload(id, 0, body(Buffer.from('abcdef')), never);
          assert.equal(await s.appendUpload(id, 3, body(Buffer.from('XY')), never), 5);
          assert.equal((await readAll(await s.readUpload(id, never))).toString(), 'abcXY');
          assert.equal(await s.appendUpload(id, 0, body(), never), 0);
          assert.equal(await s.uploadSize(id, never), 0);
        }));

      it('refuses an append past zero to an upload that does not exist', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await assert.rejects(s.appendUpload(id, 5, body(Buffer.from('x')), never), isCode('UploadNotFound'));
          assert.equal(await s.uploadSize(id, never), undefined);
        }));

      it('rolls a failing body back to the previous size and rejects with the body error', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await s.appendUpload(id, 0, body(Buffer.from('keep')), never);
          const boom = new Error('body broke');
          const bad = failingBody([Buffer.alloc(70_000, 1), Buffer.alloc(70_000, 2)], boom);
          await assert.rejects(s.appendUpload(id, 4, bad, never), (e) => e === boom);
          assert.equal(await s.uploadSize(id, never), 4);
          assert.equal(await s.appendUpload(id, 4, body(Buffer.from('!')), never), 5);
          assert.equal((await readAll(await s.readUpload(id, never))).toString(), 'keep!');
        }));

      it('leaves no upload behind when the very first append fails', () =>
        withStore(async (s) => {
          const id = randomUUID();
          const bad = failingBody([Buffer.alloc(1000)], new Error('nope'));
          await assert.rejects(s.appendUpload(id, 0, bad, never));
          assert.equal(await s.uploadSize(id, never), undefined);
        }));

      it('stops on abort, rejects with AbortError and rolls back the partial bytes', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await s.appendUpload(id, 0, body(Buffer.from('base')), never);
          const ac = new AbortController();
          const pending = s.appendUpload(id, 4, stalledBody(Buffer.alloc(50_000, 7)), ac.signal);
          setTimeout(() => ac.abort(), 20);
          await assert.rejects(pending, { name: 'AbortError' });
          assert.equal(await s.uploadSize(id, never), 4);
        }));

      it('refuses to start with an already aborted signal', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await assert.rejects(s.appendUpload(id, 0, body(Buffer.from('x')), AbortSignal.abort()), {
            name: 'AbortError',
          });
          assert.equal(await s.uploadSize(id, never), undefined);
        }));

      it('refuses a second append to an upload while one is in flight', () =>
        withStore(async (s) => {
          const id = randomUUID();
          const slow = stalledBody(Buffer.from('first'));
          const first = s.appendUpload(id, 0, slow, never);
          await new Promise((r) => setTimeout(r, 10));
          await assert.rejects(s.appendUpload(id, 0, body(Buffer.from('second')), never), isCode('UploadInvalid'));
          slow.push(null);
          assert.equal(await first, 5);
          assert.equal((await readAll(await s.readUpload(id, never))).toString(), 'first');
        }));

      it('reports no size and refuses reads for an unknown upload', () =>
        withStore(async (s) => {
          const id = randomUUID();
          assert.equal(await s.uploadSize(id, never), undefined);
          await assert.rejects(s.readUpload(id, never), isCode('UploadNotFound'));
        }));

      it('deletes an upload, and deleting a missing one is a no-op', () =>
        withStore(async (s) => {
          const id = randomUUID();
          await s.appendUpload(id, 0, body(Buffer.from('x')), never);
          await s.deleteUpload(id, never);
          assert.equal(await s.uploadSize(id, never), undefined);
          await s.deleteUpload(id, never);
        }));

      it('lists staged uploads with size and modification time', () =>
        withStore(async (s) => {
          const [a, b] = [randomUUID(), randomUUID()];
          const before = Date.now() - 2000;
          await s.appendUpload(a, 0, body(Buffer.from('aa')), never);
          await s.appendUpload(b, 0, body(Buffer.from('bbb')), never);
          const listed = (await collect(s.listUploads(never))).sort((x, y) => x.size - y.size);
          assert.deepEqual(listed.map((u) => [u.uploadId, u.size]), [[a, 2], [b, 3]]);
          for (const u of listed) assert.ok(u.modifiedAt instanceof Date && u.modifiedAt.getTime() >= before);
        }));

      for (const hostile of ['../x', '/etc/passwd', 'a/b', '', '..', 'a\\b', 'a b', 'x'.repeat(65), 'a\0b']) {
        it(`refuses the hostile upload id ${JSON.stringify(hostile.slice(0, 12))} on every upload method`, () =>
          withStore(async (s) => {
            const invalid = isCode('UploadInvalid');
            await assert.rejects(s.appendUpload(hostile, 0, body(Buffer.from('x')), never), invalid);
            await assert.rejects(s.uploadSize(hostile, never), invalid);
            await assert.rejects(s.readUpload(hostile, never), invalid);
            await assert.rejects(s.commitUpload(hostile, digestOf(Buffer.from('x')), never), invalid);
            await assert.rejects(s.deleteUpload(hostile, never), invalid);
          }));
      }
    });

    describe('commit and blobs', () => {
      it('commit makes the blob visible with the staged bytes and removes the upload', () =>
        withStore(async (s) => {
          const id = randomUUID();
          const bytes = randomBytes(4096);
          const digest = digestOf(bytes);
          await s.appendUpload(id, 0, body(bytes.subarray(0, 1000)), never);
          await s.appendUpload(id, 1000, body(bytes.subarray(1000)), never);
          assert.equal(await s.stat(digest, never), undefined);
          await s.commitUpload(id, digest, never);
          assert.deepEqual(await s.stat(digest, never), { size: 4096 });
          assert.deepEqual(await readAll(await s.read(digest, undefined, never)), bytes);
          assert.equal(await s.uploadSize(id, never), undefined);
          assert.deepEqual(await collect(s.listUploads(never)), []);
        }));

      it('commits an empty blob', () =>
        withStore(async (s) => {
          const digest = await put(s, Buffer.alloc(0));
          assert.deepEqual(await s.stat(digest, never), { size: 0 });
          assert.equal((await readAll(await s.read(digest, undefined, never))).length, 0);
        }));

      it('stores sha512 blobs alongside sha256 ones', () =>
        withStore(async (s) => {
          const bytes = Buffer.from('five-twelve');
          const id = randomUUID();
          const digest = digestOf(bytes, 'sha512');
          await s.appendUpload(id, 0, body(bytes), never);
          await s.commitUpload(id, digest, never);
          assert.deepEqual(await readAll(await s.read(digest, undefined, never)), bytes);
          assert.deepEqual((await collect(s.list(never))).map((b) => b.digest), [digest]);
        }));

      it('committing a digest that already exists keeps the blob and discards the staged copy', () =>
        withStore(async (s) => {
          const bytes = Buffer.from('same content');
          const digest = await put(s, bytes);
          const id = randomUUID();
          await s.appendUpload(id, 0, body(bytes), never);
          await s.commitUpload(id, digest, never);
          assert.equal(await s.uploadSize(id, never), undefined);
          assert.deepEqual(await readAll(await s.read(digest, undefined, never)), bytes);
          assert.equal((await collect(s.list(never))).length, 1);
        }));

      it('refuses to commit an upload that is not staged', () =>
        withStore(async (s) => {
          const digest = digestOf(Buffer.from('ghost'));
          await assert.rejects(s.commitUpload(randomUUID(), digest, never), isCode('UploadNotFound'));
          assert.equal(await s.stat(digest, never), undefined);
        }));

      it('reads the first byte, the last byte and a middle range', () =>
        withStore(async (s) => {
          const bytes = Buffer.from('0123456789abcdef');
          const digest = await put(s, bytes);
          const range = async (start: number, end: number) =>
            (await readAll(await s.read(digest, { start, end }, never))).toString();
          assert.equal(await range(0, 0), '0');
          assert.equal(await range(15, 15), 'f');
          assert.equal(await range(3, 9), '3456789');
          assert.equal(await range(0, 15), '0123456789abcdef');
        }));

      it('reads a range spanning several MiB-sized chunks exactly', () =>
        withStore(async (s) => {
          const bytes = randomBytes(2.5 * 1024 * 1024);
          const digest = await put(s, bytes);
          const start = 1024 * 1024 - 3;
          const end = 2 * 1024 * 1024 + 5;
          const got = await readAll(await s.read(digest, { start, end }, never));
          assert.deepEqual(got, bytes.subarray(start, end + 1));
          assert.deepEqual(await readAll(await s.read(digest, undefined, never)), bytes);
        }));

      it('reports a missing blob: stat is undefined and read throws BlobNotFound', () =>
        withStore(async (s) => {
          const digest = digestOf(Buffer.from('missing'));
          assert.equal(await s.stat(digest, never), undefined);
          await assert.rejects(s.read(digest, undefined, never), isCode('BlobNotFound'));
          await assert.rejects(s.read(digest, { start: 0, end: 0 }, never), isCode('BlobNotFound'));
        }));

      it('deletes a blob, and deleting a missing one is a no-op', () =>
        withStore(async (s) => {
          const digest = await put(s, Buffer.from('doomed'));
          await s.delete(digest, never);
          assert.equal(await s.stat(digest, never), undefined);
          await assert.rejects(s.read(digest, undefined, never), isCode('BlobNotFound'));
          await s.delete(digest, never);
        }));

      it('lists every committed blob with size and modification time, and no uploads', () =>
        withStore(async (s) => {
          const a = await put(s, Buffer.from('alpha'));
          const b = await put(s, Buffer.from('bravo!'));
          await s.appendUpload(randomUUID(), 0, body(Buffer.from('staged only')), never);
          const listed = await collect(s.list(never));
          const byDigest = new Map(listed.map((x) => [x.digest, x]));
          assert.equal(listed.length, 2);
          assert.equal(byDigest.get(a)?.size, 5);
          assert.equal(byDigest.get(b)?.size, 6);
          for (const x of listed) assert.ok(x.modifiedAt instanceof Date);
        }));

      it('lists nothing from an empty store', () =>
        withStore(async (s) => {
          assert.deepEqual(await collect(s.list(never)), []);
          assert.deepEqual(await collect(s.listUploads(never)), []);
        }));
    });
  });
}
