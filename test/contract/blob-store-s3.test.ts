import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/blob/s3/s3-blob-store.js';
import { makeS3Client } from '../../src/storage/blob/s3/s3-client.js';
import { S3Io } from '../../src/storage/blob/s3/s3-io.js';
import { deleteTestBucket, type TestBucket } from '../support/s3-buckets.js';
import { freshS3, S3_SKIP, skipReason } from '../support/servers.js';
import { blobStoreContract, blobTest } from './blob-store.contract.js';

const { never, digestOf, body, readAll, collect } = blobTest;
const skip = skipReason(S3_SKIP);
const MiB = 1024 * 1024;

/** Every bucket a test created: emptied (objects and multipart uploads) and deleted at the end. */
const buckets: TestBucket[] = [];

function settings(extra: Partial<S3BlobStoreOptions> = {}): S3BlobStoreOptions & TestBucket {
  const s = { ...freshS3(), prefix: 'reg/', forcePathStyle: true, ...extra };
  buckets.push(s);
  return s;
}

after(async () => {
  for (const s of buckets) await deleteTestBucket(s);
});

if (!skip) blobStoreContract('s3 (Ceph RGW)', async () => S3BlobStore.open(settings()));

describe('S3BlobStore specifics', { skip }, () => {
  it('creates the bucket when missing and keeps blobs under <prefix>blobs/<alg>/<hex>', async () => {
    const s = settings();
    const store = await S3BlobStore.open(s);
    try {
      const digest = await blobTest.put(store, Buffer.from('layout'));
      const client = makeS3Client(s);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: s.bucket }));
      client.destroy();
      assert.deepEqual(listed.Contents?.map((o) => o.Key), [`reg/blobs/sha256/${digest.slice(7)}`]);
    } finally {
      await store.close();
    }
  });

  it('streams chunked uploads of odd sizes through multipart parts, resumable from another store instance (node)', async () => {
    const s = settings();
    const a = await S3BlobStore.open(s);
    const b = await S3BlobStore.open(s);
    try {
      const bytes = randomBytes(13 * MiB + 7);
      const id = randomUUID();
      const cuts = [0, 3 * MiB, 7 * MiB + 1, 12 * MiB + 3, bytes.length];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const node = i % 2 === 0 ? a : b;
        assert.equal(await node.appendUpload(id, cuts[i]!, body(bytes.subarray(cuts[i], cuts[i + 1])), never), cuts[i + 1]);
      }
      // Parts live in an S3 multipart upload until the commit.
      const client = makeS3Client(s);
      const mpus = await client.send(new ListMultipartUploadsCommand({ Bucket: s.bucket }));
      client.destroy();
      assert.equal(mpus.Uploads?.length, 1);
      assert.deepEqual(await readAll(await b.readUpload(id, never)), bytes);
      await a.commitUpload(id, digestOf(bytes), never);
      assert.deepEqual(await b.stat(digestOf(bytes), never), { size: bytes.length });
      assert.ok((await readAll(await b.read(digestOf(bytes), undefined, never))).equals(bytes));
      const ranged = await readAll(await a.read(digestOf(bytes), { start: 5 * MiB - 1, end: 9 * MiB }, never));
      assert.ok(ranged.equals(bytes.subarray(5 * MiB - 1, 9 * MiB + 1)));
      assert.deepEqual(await collect(a.listUploads(never)), []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reads an upload\'s first bytes and its pending tail without sealing the multipart upload (the encrypting wrapper does both before every append)', async () => {
    const s = settings();
    const store = await S3BlobStore.open(s);
    try {
      const bytes = randomBytes(9 * MiB + 100);
      const id = randomUUID();
      await store.appendUpload(id, 0, body(bytes.subarray(0, 8 * MiB + 10)), never);
      await store.appendUpload(id, 8 * MiB + 10, body(bytes.subarray(8 * MiB + 10)), never);
      assert.ok((await store.uploadHead(id, 32, never)).equals(bytes.subarray(0, 32)));
      assert.ok((await readAll(await store.readUpload(id, never, 8 * MiB + 50))).equals(bytes.subarray(8 * MiB + 50)));
      const client = makeS3Client(s);
      const mpus = await client.send(new ListMultipartUploadsCommand({ Bucket: s.bucket }));
      client.destroy();
      assert.equal(mpus.Uploads?.length, 1, 'the multipart upload is still open (not sealed)');
      // A read reaching into the parts seals; the head is kept across the seal and later appends.
      assert.ok((await readAll(await store.readUpload(id, never, 100))).equals(bytes.subarray(100)));
      const more = randomBytes(1000);
      await store.appendUpload(id, bytes.length, body(more), never);
      assert.ok((await store.uploadHead(id, 64, never)).equals(bytes.subarray(0, 64)));
      assert.ok((await readAll(await store.readUpload(id, never))).equals(Buffer.concat([bytes, more])));
    } finally {
      await store.close();
    }
  });

  it('a retry from the recorded offset after a crash that advanced past it inside a part cuts the part and continues', async () => {
    const store = await S3BlobStore.open(settings());
    try {
      const id = randomUUID();
      const first = randomBytes(10 * MiB);
      await store.appendUpload(id, 0, body(first), never);
      // An append whose state was saved but whose size the metadata never recorded (node died):
      await store.appendUpload(id, first.length, body(randomBytes(9 * MiB)), never);
      // The client resumes from the recorded 10 MiB, which lies inside an uploaded part, and once more from 2 MiB.
      const second = randomBytes(5 * MiB + 11);
      assert.equal(await store.appendUpload(id, first.length, body(second), never), first.length + second.length);
      const all = Buffer.concat([first, second]);
      assert.ok((await readAll(await store.readUpload(id, never))).equals(all));
      // After sealing (the read), appends still work.
      assert.equal(await store.appendUpload(id, 2 * MiB, body(Buffer.from('end')), never), 2 * MiB + 3);
      const expected = Buffer.concat([first.subarray(0, 2 * MiB), Buffer.from('end')]);
      await store.commitUpload(id, digestOf(expected), never);
      assert.ok((await readAll(await store.read(digestOf(expected), undefined, never))).equals(expected));
    } finally {
      await store.close();
    }
  });

  it('of two nodes appending to one upload at once exactly one wins; the other gets UploadInvalid and changes nothing', async () => {
    const s = settings();
    const [a, b] = [await S3BlobStore.open(s), await S3BlobStore.open(s)];
    try {
      const id = randomUUID();
      await a.appendUpload(id, 0, body(Buffer.from('base:')), never);
      // Both bodies wait until both appends have read the state, then finish.
      const gate = (bytes: Buffer) => {
        const stream = new Readable({ read() {} });
        stream.push(bytes);
        return stream;
      };
      const payloads = [randomBytes(6 * MiB), randomBytes(6 * MiB)];
      const [ba, bb] = [gate(payloads[0]!), gate(payloads[1]!)];
      const racing = [a.appendUpload(id, 5, ba, never), b.appendUpload(id, 5, bb, never)];
      await new Promise((r) => setTimeout(r, 300));
      ba.push(null);
      bb.push(null);
      const results = await Promise.allSettled(racing);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      assert.ok(blobTest.isCode('UploadInvalid')(lost[0]!.reason), String(lost[0]!.reason));
      assert.equal(await a.uploadSize(id, never), 5 + 6 * MiB);
      const staged = await readAll(await b.readUpload(id, never));
      const winner = payloads[results.findIndex((r) => r.status === 'fulfilled')]!;
      assert.ok(staged.equals(Buffer.concat([Buffer.from('base:'), winner])), 'the staged bytes are exactly the winner\'s');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lists an upload whose first append died leaving only a multipart upload, and deleteUpload aborts it', async () => {
    const s = settings();
    const store = await S3BlobStore.open(s);
    const client = makeS3Client(s);
    try {
      const id = randomUUID();
      const io = new S3Io(client, s.bucket);
      await io.createMultipart(`reg/uploads/${id}/data-0000`, never);
      const listed = await collect(store.listUploads(never));
      assert.deepEqual(listed.map((u) => [u.uploadId, u.size]), [[id, 0]]);
      await store.deleteUpload(id, never);
      assert.deepEqual(await collect(store.listUploads(never)), []);
      assert.equal((await client.send(new ListMultipartUploadsCommand({ Bucket: s.bucket }))).Uploads?.length ?? 0, 0);
    } finally {
      client.destroy();
      await store.close();
    }
  });

  it('presigns a GET URL that serves the blob bytes straight from S3', async () => {
    const store = await S3BlobStore.open(settings());
    try {
      const bytes = randomBytes(1000);
      const digest = await blobTest.put(store, bytes);
      const url = await store.presignedUrl(digest, 60);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
      const tampered = url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=999');
      assert.equal((await fetch(tampered)).status, 403);
    } finally {
      await store.close();
    }
  });

  it('fails to open with a clear error when the endpoint is unreachable', async () => {
    const s = { ...freshS3(), endpoint: 'http://127.0.0.1:1', prefix: '', forcePathStyle: true };
    await assert.rejects(S3BlobStore.open(s), /ECONNREFUSED|connect/);
  });
});
