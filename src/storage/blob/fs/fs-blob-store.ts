import { constants as fsc, type Dirent } from 'node:fs';
import { mkdir, open, opendir, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { addAbortSignal, type Readable, type Stream } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fail } from '../../../core/errors.js';
import { isDigest, parseDigest, type Digest } from '../../../core/digest.js';
import type { BlobStore } from '../../../core/ports/blob-store.js';
import { assertOffset, assertUploadId, isUploadId } from '../upload-id.js';

/**
 * Options for {@link FsBlobStore}.
 */
export interface FsBlobStoreOptions {
  /** Directory holding `uploads/` and `blobs/`; created by {@link FsBlobStore.init}. */
  root: string;
}

/** Big buffers keep the push/pull hot path at a few syscalls per MiB instead of per 16 KiB chunk. */
const IO_CHUNK = 1024 * 1024;
const ALGORITHMS = ['sha256', 'sha512'] as const;
const PREFIX_RE = /^[a-f0-9]{2}$/;

/**
 * {@link BlobStore} on a local file system (the embedded default).
 *
 * ```
 *   <root>/
 *     uploads/<uploadId>                   staged bytes, appended in place at the requested offset
 *     blobs/<alg>/<hex[0:2]>/<hex>         committed blob: fsync(file) → rename → fsync(dir)
 * ```
 *
 * A committed blob only ever appears through `rename` of a fully written and fsynced upload, so a
 * crash leaves either no blob or a complete one; at worst an abandoned file stays in `uploads/`.
 * Upload ids and digests are re-validated before they become path segments.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #uploads: string;
  readonly #blobs: string;
  /** Upload ids with an append in flight in this process; a second writer is refused, not interleaved. */
  readonly #busy = new Set<string>();

  /** Builds the store without touching the disk; call {@link init} (or use {@link open}) before use. */
  constructor(options: FsBlobStoreOptions) {
    this.#root = resolve(options.root);
    this.#uploads = join(this.#root, 'uploads');
    this.#blobs = join(this.#root, 'blobs');
  }

  /** Creates and initialises a store rooted at `options.root`. */
  static async open(options: FsBlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(options);
    await store.init();
    return store;
  }

  /** Creates `root/uploads` and `root/blobs` when missing. Idempotent. */
  async init(): Promise<void> {
    await mkdir(this.#uploads, { recursive: true });
    await mkdir(this.#blobs, { recursive: true });
  }

  /** {@inheritDoc BlobStore.appendUpload} */
  async appendUpload(uploadId: string, offset: number, body: Readable, signal: AbortSignal): Promise<number> {
    const path = this.#uploadPath(uploadId);
    assertOffset(offset);
    signal.throwIfAborted();
    if (this.#busy.has(uploadId)) {
      throw fail('UploadInvalid', 'another append to this upload is in progress', { uploadId });
    }
    this.#busy.add(uploadId);
    try {
      const { handle, created } = await openForAppend(path, offset, uploadId);
      let size: number;
      try {
        size = (await handle.stat()).size;
      } catch (e) {
        await handle.close();
        throw e;
      }
      if (size < offset) {
        await handle.close();
        throw fail('UploadInvalid', 'offset is beyond the staged size', { uploadId, offset, size });
      }
      // Bytes past `offset` were staged by a request that never got recorded (a crash mid-chunk):
      // the caller's offset is the truth, so they are cut away before writing.
      if (size > offset) await handle.truncate(offset);
      // Positional writes from `offset` (not O_APPEND) so the bytes land exactly where checked.
      const out = handle.createWriteStream({ start: offset, highWaterMark: IO_CHUNK });
      try {
        await pipeline(body, out, { signal });
        return offset + out.bytesWritten;
      } catch (e) {
        // The stream owns the handle; wait until it is closed so no late write lands after the cut.
        await closed(out);
        await (created ? unlink(path) : truncate(path, offset)).catch(ignoreMissing);
        throw e;
      }
    } finally {
      this.#busy.delete(uploadId);
    }
  }

  /** {@inheritDoc BlobStore.uploadSize} */
  async uploadSize(uploadId: string, signal: AbortSignal): Promise<number | undefined> {
    const path = this.#uploadPath(uploadId);
    signal.throwIfAborted();
    return (await statFile(path))?.size;
  }

  /** {@inheritDoc BlobStore.readUpload} */
  async readUpload(uploadId: string, signal: AbortSignal, from?: number): Promise<Readable> {
    const path = this.#uploadPath(uploadId);
    signal.throwIfAborted();
    const handle = await openIfExists(path);
    if (!handle) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    return addAbortSignal(signal, handle.createReadStream({ highWaterMark: IO_CHUNK, ...(from ? { start: from } : {}) }));
  }

  /** {@inheritDoc BlobStore.commitUpload} */
  async commitUpload(uploadId: string, digest: Digest, signal: AbortSignal, replace = false): Promise<void> {
    const staged = this.#uploadPath(uploadId);
    const target = this.#blobPath(digest);
    signal.throwIfAborted();
    if (this.#busy.has(uploadId)) {
      throw fail('UploadInvalid', 'cannot commit while an append is in progress', { uploadId });
    }
    const handle = await openIfExists(staged);
    if (!handle) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    try {
      if (!replace && (await statFile(target))) {
        // Content-addressed and immutable: the existing blob already holds these exact bytes.
        await unlink(staged).catch(ignoreMissing);
        return;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    signal.throwIfAborted();
    const dir = dirname(target);
    const firstCreated = await mkdir(dir, { recursive: true });
    if (firstCreated !== undefined) await this.#syncNewDirs(firstCreated, dir);
    try {
      // rename(2) replaces an existing target atomically, which is what `replace` relies on.
      await rename(staged, target);
    } catch (e) {
      // Lost a race with a concurrent commit or delete of the same upload.
      if (errorCode(e) !== 'ENOENT') throw e;
      if (!(await statFile(target))) throw fail('UploadNotFound', 'upload unknown', { uploadId });
    }
    await syncDir(dir);
  }

  /** {@inheritDoc BlobStore.deleteUpload} */
  async deleteUpload(uploadId: string, signal: AbortSignal): Promise<void> {
    const path = this.#uploadPath(uploadId);
    signal.throwIfAborted();
    await unlink(path).catch(ignoreMissing);
  }

  /** {@inheritDoc BlobStore.listUploads} */
  async *listUploads(signal: AbortSignal): AsyncIterable<{ uploadId: string; size: number; modifiedAt: Date }> {
    for (const entry of await readDirIfExists(this.#uploads)) {
      signal.throwIfAborted();
      if (!entry.isFile() || !isUploadId(entry.name)) continue;
      const st = await statFile(join(this.#uploads, entry.name));
      if (st) yield { uploadId: entry.name, size: st.size, modifiedAt: st.mtime };
    }
  }

  /** {@inheritDoc BlobStore.stat} */
  async stat(digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    const path = this.#blobPath(digest);
    signal.throwIfAborted();
    const st = await statFile(path);
    return st ? { size: st.size } : undefined;
  }

  /** {@inheritDoc BlobStore.read} */
  async read(
    digest: Digest,
    range: { start: number; end: number } | undefined,
    signal: AbortSignal,
  ): Promise<Readable> {
    const path = this.#blobPath(digest);
    signal.throwIfAborted();
    // Opening first turns "missing" into a typed error and pins the inode against a concurrent delete.
    const handle = await openIfExists(path);
    if (!handle) throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    const stream = handle.createReadStream({ start: range?.start, end: range?.end, highWaterMark: IO_CHUNK });
    return addAbortSignal(signal, stream);
  }

  /** {@inheritDoc BlobStore.pipeTo} */
  async pipeTo(digest: Digest, range: { start: number; end: number } | undefined, write: (chunk: Buffer) => Promise<void>, signal: AbortSignal): Promise<void> {
    const path = this.#blobPath(digest);
    signal.throwIfAborted();
    const handle = await openIfExists(path);
    if (!handle) throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    try {
      const end = range ? range.end + 1 : (await handle.stat()).size;
      const buffers = [Buffer.allocUnsafe(IO_CHUNK), Buffer.allocUnsafe(IO_CHUNK)];
      let pending: Promise<void> = Promise.resolve();
      let position = range?.start ?? 0;
      for (let i = 0; position < end; i++) {
        signal.throwIfAborted();
        // buffers[i % 2] last carried chunk i-2, whose write was awaited before chunk i-1 was sent.
        const buffer = buffers[i % 2]!;
        const { bytesRead } = await handle.read(buffer, 0, Math.min(IO_CHUNK, end - position), position);
        if (bytesRead === 0) throw fail('Internal', 'blob is shorter than recorded; run berth fsck', { digest });
        position += bytesRead;
        await pending;
        pending = write(buffer.subarray(0, bytesRead));
        // Awaited only after the next read: mark it observed, or a failed write (the client went
        // away) is an unhandled rejection meanwhile, which ends the process.
        pending.catch(() => {});
      }
      await pending;
    } finally {
      await handle.close();
    }
  }

  /** {@inheritDoc BlobStore.delete} */
  async delete(digest: Digest, signal: AbortSignal): Promise<void> {
    const path = this.#blobPath(digest);
    signal.throwIfAborted();
    await unlink(path).catch(ignoreMissing);
  }

  /** {@inheritDoc BlobStore.list} */
  async *list(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number; modifiedAt: Date }> {
    for (const algorithm of ALGORITHMS) {
      const algDir = join(this.#blobs, algorithm);
      for (const prefix of await readDirIfExists(algDir)) {
        if (!prefix.isDirectory() || !PREFIX_RE.test(prefix.name)) continue;
        const prefixDir = join(algDir, prefix.name);
        // Streamed: a prefix directory of a large registry holds many thousands of entries.
        const dir = await opendir(prefixDir, { bufferSize: 256 }).catch(ignoreMissing);
        if (!dir) continue;
        // Stats run LIST_PARALLELISM at a time (one at a time, a 100,000-blob walk for garbage
        // collection is bound by stat latency, not by the disk).
        let batch: string[] = [];
        const flush = async () => {
          const stats = await Promise.all(batch.map((name) => statFile(join(prefixDir, name))));
          const out = batch.map((name, i) => ({ name, st: stats[i] }));
          batch = [];
          return out;
        };
        for await (const entry of dir) {
          signal.throwIfAborted();
          if (!entry.isFile() || !entry.name.startsWith(prefix.name) || !isDigest(`${algorithm}:${entry.name}`)) continue;
          batch.push(entry.name);
          if (batch.length < LIST_PARALLELISM) continue;
          for (const { name, st } of await flush()) if (st) yield { digest: `${algorithm}:${name}` as Digest, size: st.size, modifiedAt: st.mtime };
        }
        for (const { name, st } of await flush()) if (st) yield { digest: `${algorithm}:${name}` as Digest, size: st.size, modifiedAt: st.mtime };
      }
    }
  }

  /** Nothing is held open between calls; present for the port. */
  async close(): Promise<void> {}

  #uploadPath(uploadId: string): string {
    assertUploadId(uploadId);
    return join(this.#uploads, uploadId);
  }

  #blobPath(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    const path = join(this.#blobs, algorithm, hex.slice(0, 2), hex);
    // Belt and braces: parseDigest already pins the charset, but a path must never leave blobs/.
    if (relative(this.#blobs, path).startsWith(`..${sep}`)) throw fail('InvalidDigest', 'invalid digest');
    return path;
  }

  /** fsyncs the parent of every directory `mkdir -p` just created, so the new entries survive a crash. */
  async #syncNewDirs(firstCreated: string, leaf: string): Promise<void> {
    for (let d = leaf; ; d = dirname(d)) {
      await syncDir(dirname(d));
      if (d === firstCreated || d === this.#blobs || d === dirname(d)) return;
    }
  }
}

async function openForAppend(
  path: string,
  offset: number,
  uploadId: string,
): Promise<{ handle: FileHandle; created: boolean }> {
  if (offset === 0) {
    // O_EXCL tells us whether this call created the upload, so a failed first append can remove it.
    try {
      return { handle: await open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL), created: true };
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e;
    }
  }
  const handle = await openIfExists(path, fsc.O_WRONLY);
  if (!handle) throw fail('UploadNotFound', 'upload unknown', { uploadId, offset });
  return { handle, created: false };
}

async function openIfExists(path: string, flags: number = fsc.O_RDONLY): Promise<FileHandle | undefined> {
  return open(path, flags).catch(ignoreMissing);
}

/** Concurrent stats while listing blobs. */
const LIST_PARALLELISM = 32;

async function statFile(path: string): Promise<{ size: number; mtime: Date } | undefined> {
  const st = await stat(path).catch(ignoreMissing);
  return st?.isFile() ? st : undefined;
}

async function readDirIfExists(path: string): Promise<Dirent[]> {
  return (await readdir(path, { withFileTypes: true }).catch(ignoreMissing)) ?? [];
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, fsc.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Resolves once `stream` has emitted 'close' (after which its file handle is released). */
async function closed(stream: Stream & { closed: boolean }): Promise<void> {
  if (stream.closed) return;
  await new Promise<void>((done) => stream.once('close', () => done()));
}

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** `catch` handler mapping "does not exist" to `undefined` and rethrowing anything else. */
function ignoreMissing(e: unknown): undefined {
  const code = errorCode(e);
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw e;
}
