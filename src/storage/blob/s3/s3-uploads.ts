import { addAbortSignal, type Readable } from 'node:stream';
import { fail } from '../../../core/errors.js';
import { isNotFound } from './s3-client.js';
import type { S3Io } from './s3-io.js';
import { HEAD_BYTES, loadState, partsSize, saveState, type LoadedState, type PartRef, type S3Keys, type UploadState } from './s3-upload-state.js';

/** Where an append starts writing: the parts it keeps and the bytes (below one part) to send first. */
interface StartPoint {
  mpu?: { key: string; id: string; parts: PartRef[] };
  head: Buffer;
  /** Objects the previous state named that the new one will not (removed once it is saved). */
  drop: string[];
  /** Version of the state the new one replaces (a seal on the way writes one). */
  etag: string | undefined;
}

/**
 * Staged uploads on S3 (see {@link UploadState} for the layout). Every append reads the state,
 * writes parts and a new tail, and then replaces the state with one PUT, so any node can continue
 * where another stopped, and a node dying mid-append leaves the previous state (naming intact
 * objects) for the client's retry from the recorded offset.
 */
export class S3Uploads {
  constructor(
    private readonly io: S3Io,
    private readonly keys: S3Keys,
    /** Bytes buffered per part (≥ 5 MiB, S3's minimum for every part but the last). */
    private readonly partSize: number,
  ) {}

  async size(id: string, signal: AbortSignal): Promise<number | undefined> {
    return (await this.load(id, signal))?.state.size;
  }

  load(id: string, signal: AbortSignal): Promise<LoadedState | undefined> {
    return loadState(this.io.client, this.io.bucket, this.keys, id, signal);
  }

  /** {@link BlobStore.appendUpload} without the in-process writer check. */
  async append(id: string, offset: number, body: Readable, signal: AbortSignal): Promise<number> {
    const loaded = await this.load(id, signal);
    const old = loaded?.state;
    if (!old && offset > 0) throw fail('UploadNotFound', 'upload unknown', { uploadId: id, offset });
    if (old && offset > old.size) throw fail('UploadInvalid', 'offset is beyond the staged size', { uploadId: id, offset, size: old.size });
    let start: StartPoint | undefined;
    let tailKey: string | undefined;
    let created: { key: string; id: string } | undefined;
    try {
      start = await this.startAt(id, loaded, offset, signal);
      // Parts are ≥ the part size, so bytes before the first part's end are either all rewritten
      // (the append starts at part 0) or all kept: the head is captured anew or carried over.
      const rewritesHead = start.mpu === undefined || start.mpu.parts.length === 0;
      const streamed = await this.stream(id, start, body, signal, (m) => (created = m), rewritesHead);
      let tail: UploadState['tail'];
      if (streamed.rest.length > 0) {
        tailKey = this.keys.fresh(id, 'tail');
        await this.io.put(tailKey, streamed.rest, signal);
        tail = { key: tailKey, size: streamed.rest.length };
      }
      const head = rewritesHead ? streamed.head.toString('base64') : old?.head;
      const state: UploadState = { v: 1, size: 0, ...(streamed.mpu ? { mpu: streamed.mpu } : {}), ...(tail ? { tail } : {}), ...(head !== undefined ? { head } : {}) };
      state.size = partsSize(state) + (tail?.size ?? 0);
      await saveState(this.io.client, this.io.bucket, this.keys, id, state, start.etag, signal);
      // The new state is in place: what only the previous one named is garbage now (best effort;
      // anything left is removed with the upload).
      const quiet = AbortSignal.timeout(30_000);
      for (const key of start.drop) await this.io.delete(key, quiet).catch(() => {});
      if (old?.mpu && old.mpu.id !== state.mpu?.id && !old.sealed) await this.io.abort(old.mpu.key, old.mpu.id, quiet).catch(() => {});
      return state.size;
    } catch (e) {
      const quiet = AbortSignal.timeout(30_000);
      // A lost race (UploadInvalid) must not remove what the winner wrote.
      if (!old && !(e instanceof Error && 'code' in e && e.code === 'UploadInvalid')) {
        await this.discard(id, quiet).catch(() => {});
      } else {
        if (tailKey) await this.io.delete(tailKey, quiet).catch(() => {});
        if (created) await this.io.abort(created.key, created.id, quiet).catch(() => {});
      }
      throw e;
    }
  }

  /** Where an append at `offset` continues from `old`, cutting unrecorded bytes past `offset`. */
  private async startAt(id: string, loaded: LoadedState | undefined, offset: number, signal: AbortSignal): Promise<StartPoint> {
    const old = loaded?.state;
    const etag = loaded?.etag;
    const drop = [old?.tail?.key, old?.sealed?.key].filter((k): k is string => k !== undefined);
    if (!old || offset === 0) return { head: Buffer.alloc(0), drop, etag };
    if (old.sealed) return { ...(await this.rebuild(id, old.sealed.key, offset, signal)), drop, etag };
    const partsEnd = partsSize(old);
    if (offset >= partsEnd) {
      const head = offset > partsEnd && old.tail ? await this.io.readRange(old.tail.key, 0, offset - partsEnd - 1, signal) : Buffer.alloc(0);
      return { ...(old.mpu ? { mpu: old.mpu } : {}), head, drop, etag };
    }
    // The cut falls inside an uploaded part (a crash after the state advanced but before the
    // metadata recorded it): parts cannot be read back, so seal what is there and copy the prefix.
    const sealed = await this.seal(id, { state: old, etag: etag ?? '', modifiedAt: new Date() }, signal);
    if (!sealed.key) throw fail('Internal', 'staged upload state is inconsistent', { uploadId: id });
    return { ...(await this.rebuild(id, sealed.key, offset, signal)), drop: [sealed.key], etag: sealed.etag };
  }

  /** A new multipart upload holding bytes `[0, offset)` of the object `source`, copied server-side. */
  private async rebuild(id: string, source: string, offset: number, signal: AbortSignal): Promise<Omit<StartPoint, 'drop' | 'etag'>> {
    const copyEnd = offset - (offset % this.partSize);
    let mpu: StartPoint['mpu'];
    if (copyEnd > 0) {
      const key = this.keys.fresh(id, 'data');
      mpu = { key, id: await this.io.createMultipart(key, signal), parts: [] };
      // Pieces are multiples of the part size, so every copied part is ≥ the minimum.
      const piece = this.partSize * Math.max(1, Math.floor(1024 ** 3 / this.partSize));
      for (let pos = 0, n = 1; pos < copyEnd; pos += piece, n++) {
        mpu.parts.push(await this.io.copyPart(mpu.key, mpu.id, n, source, pos, Math.min(copyEnd, pos + piece) - 1, signal));
      }
    }
    const head = offset > copyEnd ? await this.io.readRange(source, copyEnd, offset - 1, signal) : Buffer.alloc(0);
    return { ...(mpu ? { mpu } : {}), head };
  }

  /**
   * Streams `body` after `start.head` into parts of at least the part size; one part uploads while
   * the next is read. Resolves with the parts and the bytes left over (below one part).
   */
  private async stream(id: string, start: StartPoint, body: Readable, signal: AbortSignal, onCreate: (m: { key: string; id: string }) => void, captureHead: boolean): Promise<{ mpu?: StartPoint['mpu']; rest: Buffer; head: Buffer }> {
    let mpu = start.mpu ? { ...start.mpu, parts: [...start.mpu.parts] } : undefined;
    let chunks: Buffer[] = start.head.length ? [start.head] : [];
    let buffered = start.head.length;
    let head = captureHead ? start.head.subarray(0, HEAD_BYTES) : Buffer.alloc(0);
    let inflight: Promise<void> | undefined;
    const flush = async (): Promise<void> => {
      const bytes = Buffer.concat(chunks, buffered);
      chunks = [];
      buffered = 0;
      await inflight;
      if (!mpu) {
        const key = this.keys.fresh(id, 'data');
        mpu = { key, id: await this.io.createMultipart(key, signal), parts: [] };
        onCreate(mpu);
      }
      const target = mpu;
      const n = (target.parts.at(-1)?.n ?? 0) + 1;
      const slot: PartRef = { n, etag: '', size: bytes.length };
      target.parts.push(slot);
      inflight = this.io.uploadPart(target.key, target.id, n, bytes, signal).then((p) => { slot.etag = p.etag; });
      // Observed here so a failure while the next chunk is read is not an unhandled rejection; it
      // is rethrown where `inflight` is awaited.
      inflight.catch(() => {});
    };
    for await (const chunk of addAbortSignal(signal, body)) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (captureHead && head.length < HEAD_BYTES) head = Buffer.concat([head, buf.subarray(0, HEAD_BYTES - head.length)]);
      chunks.push(buf);
      buffered += buf.length;
      if (buffered >= this.partSize) await flush();
    }
    await inflight;
    return { ...(mpu ? { mpu } : {}), rest: Buffer.concat(chunks, buffered), head };
  }

  /**
   * Makes the staged bytes one readable object and returns its key (undefined for an empty
   * upload): the tail itself when there are no parts, else the completed multipart upload with the
   * tail as its last part (which may be small). Idempotent; a seal a crash interrupted after the
   * completion is recognised by the finished object's size.
   */
  async seal(id: string, loaded: LoadedState, signal: AbortSignal): Promise<{ key: string | undefined; etag: string }> {
    const { state, etag } = loaded;
    if (state.sealed) return { key: state.sealed.key, etag };
    if (!state.mpu) return { key: state.tail?.key, etag };
    const { mpu } = state;
    const parts = [...mpu.parts];
    if (state.tail) {
      const bytes = await this.io.readRange(state.tail.key, 0, state.tail.size - 1, signal);
      parts.push(await this.io.uploadPart(mpu.key, mpu.id, (parts.at(-1)?.n ?? 0) + 1, bytes, signal));
    }
    try {
      await this.io.complete(mpu.key, mpu.id, parts, signal);
    } catch (e) {
      const done = isNotFound(e) ? await this.io.head(mpu.key, signal) : undefined;
      if (done?.size !== state.size) throw e;
    }
    const next = await saveState(this.io.client, this.io.bucket, this.keys, id, { v: 1, size: state.size, sealed: { key: mpu.key }, ...(state.head !== undefined ? { head: state.head } : {}) }, etag, signal);
    if (state.tail) await this.io.delete(state.tail.key, signal).catch(() => {});
    return { key: mpu.key, etag: next };
  }

  /** Aborts the upload's multipart uploads and deletes its objects (state last, so a crash leaves it listed). */
  async discard(id: string, signal: AbortSignal): Promise<void> {
    const dir = this.keys.uploadDir(id);
    for await (const u of this.io.listMultipart(dir, signal)) await this.io.abort(u.key, u.id, signal);
    const keys: string[] = [];
    for await (const o of this.io.list(dir, signal)) keys.push(o.key);
    const state = this.keys.state(id);
    for (const key of keys) if (key !== state) await this.io.delete(key, signal);
    await this.io.delete(state, signal);
  }

  /** Every staged upload (also ones whose first append died before any state was written). */
  async *list(signal: AbortSignal): AsyncIterable<{ uploadId: string; size: number; modifiedAt: Date }> {
    const seen = new Map<string, Date>();
    for await (const o of this.io.list(this.keys.uploadsRoot, signal)) {
      const id = this.keys.uploadIdOf(o.key);
      if (id === undefined) continue;
      const prev = seen.get(id);
      if (!prev || o.modifiedAt > prev) seen.set(id, o.modifiedAt);
    }
    for await (const u of this.io.listMultipart(this.keys.uploadsRoot, signal)) {
      const id = this.keys.uploadIdOf(u.key);
      if (id !== undefined && !seen.has(id)) seen.set(id, u.initiated);
    }
    for (const [uploadId, modifiedAt] of seen) {
      const size = (await this.load(uploadId, signal).catch(() => undefined))?.state.size ?? 0;
      yield { uploadId, size, modifiedAt };
    }
  }
}
