import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { type Digest, parseDigest } from '../digest.js';
import { fail, isBerthError } from '../errors.js';
import type { EventBus } from '../events.js';
import { blobsFor, scopeName, scopeOf } from '../ports/blob-encryption.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetaStore, Repository, UploadSession } from '../ports/meta-store.js';
import { validateRepositoryName } from '../names.js';
import { MeteredStream } from './metered-stream.js';
import type { RepositoryService } from './repositories.js';
import { repoName, type RepoKey } from '../repo-key.js';

export interface ChunkOptions {
  /** Inclusive byte range the client says this chunk covers (`Content-Range`). */
  range?: { start: number; end: number };
  /** Declared body length (`Content-Length`), checked against what arrives. */
  length?: number;
}

export interface UploadLimits {
  /** Largest blob accepted, in bytes. */
  maxBlobBytes: number;
}

/**
 * Blob uploads: monolithic, chunked and streamed, resumable across restarts and nodes because
 * the session lives in the metadata store and the bytes in the blob store's staging area.
 *
 * The running sha256 of a session is kept in process memory only as a shortcut: when it is
 * missing (another node took the earlier chunks, or the process restarted) the digest is
 * recomputed from the staged bytes, so correctness never depends on it.
 */
export class UploadService {
  private readonly hashes = new Map<string, { hash: Hash; offset: number }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly repos: RepositoryService,
    private readonly events: EventBus,
    private readonly limits: UploadLimits,
  ) {}

  /** Opens a session. Throws `RepositoryNotFound` unless `createRepository`. */
  async start(repository: RepoKey, createRepository: boolean, signal: AbortSignal): Promise<UploadSession> {
    await this.repos.forPush(repository, createRepository, signal);
    return this.meta.createUpload({ id: randomUUID(), repository }, signal);
  }

  /** The session's state. Throws `UploadNotFound`. */
  async status(repository: RepoKey, id: string, signal: AbortSignal): Promise<UploadSession> {
    const session = await this.meta.getUpload(repository, id, signal);
    if (!session) throw fail('UploadNotFound', 'blob upload unknown to registry', { id });
    return session;
  }

  /**
   * Appends a chunk. Throws `RangeNotSatisfiable` when the chunk does not start where the
   * session ends, `SizeInvalid` when fewer or more bytes arrive than declared (nothing is kept).
   */
  async append(repository: RepoKey, id: string, body: Readable, opts: ChunkOptions, signal: AbortSignal): Promise<UploadSession> {
    const session = await this.status(repository, id, signal);
    const size = await this.stage(id, session.size, body, opts, signal);
    return this.meta.advanceUpload(repository, id, session.size, size, signal);
  }

  /**
   * Finishes a session with an optional last chunk: verifies `digest`, commits the blob, then in
   * one metadata transaction links it to the repository and ends the session (the last chunk's
   * size is never recorded separately: if the process dies before that commit, the session resumes
   * at its recorded size and the extra staged bytes are cut). On a digest mismatch the session and
   * its bytes are discarded and `DigestMismatch` is thrown; nothing becomes visible.
   */
  async complete(repository: RepoKey, id: string, digestText: string, body: Readable | undefined, opts: ChunkOptions, signal: AbortSignal): Promise<{ digest: Digest; size: number }> {
    const { digest } = parseDigest(digestText);
    const session = await this.status(repository, id, signal);
    // Always stage, if only nothing: it also cuts staged bytes a crashed request left past the
    // recorded size, so the digest and the committed blob cover exactly the recorded bytes.
    const size = await this.stage(id, session.size, body ?? Readable.from([]), body ? opts : {}, signal);
    const repo = await this.repos.require(repository, signal);
    try {
      await this.verifyAndCommit(repo, id, digest, size, signal);
    } catch (err) {
      if (isBerthError(err) && err.code === 'DigestMismatch') await this.discard(repository, id, signal);
      throw err;
    }
    await this.linkVerified(repository, digest, size, signal, { endUpload: id });
    this.events.emit({ type: 'blob.pushed', repository, digest, size, at: new Date() });
    return { digest, size };
  }

  /**
   * Uploads a whole blob in one request (`POST …/uploads/?digest=`). No session is recorded: the
   * bytes are staged under a fresh id and either committed with one metadata write or discarded.
   */
  async monolithic(repository: RepoKey, digestText: string, body: Readable, length: number | undefined, createRepository: boolean, signal: AbortSignal): Promise<{ digest: Digest; size: number }> {
    const { digest } = parseDigest(digestText);
    const repo = await this.repos.forPush(repository, createRepository, signal);
    const id = randomUUID();
    try {
      const size = await this.stage(id, 0, body, length === undefined ? {} : { length }, signal);
      await this.verifyAndCommit(repo, id, digest, size, signal);
      await this.linkVerified(repository, digest, size, signal);
      this.events.emit({ type: 'blob.pushed', repository, digest, size, at: new Date() });
      return { digest, size };
    } catch (err) {
      this.hashes.delete(id);
      await this.blobs.deleteUpload(id, signal).catch(() => {});
      throw err;
    }
  }

  /**
   * Appends a chunk to the staged bytes at `offset` (the recorded size), hashing as it streams.
   * Throws `RangeNotSatisfiable` when the chunk does not start at `offset`, `SizeInvalid` when
   * fewer or more bytes arrive than declared (nothing is kept). Resolves with the staged size.
   */
  private async stage(id: string, offset: number, body: Readable, opts: ChunkOptions, signal: AbortSignal): Promise<number> {
    if (opts.range) {
      if (opts.range.start !== offset || opts.range.end < opts.range.start - 1) {
        throw fail('RangeNotSatisfiable', `chunk must start at byte ${offset}`, { size: offset });
      }
      const rangeLength = opts.range.end - opts.range.start + 1;
      if (opts.length !== undefined && opts.length !== rangeLength) {
        throw fail('SizeInvalid', 'Content-Length does not match Content-Range', { length: opts.length, range: rangeLength });
      }
      opts = { ...opts, length: rangeLength };
    }
    const hint = this.hashes.get(id);
    const hash = offset === 0 ? createHash('sha256') : hint && hint.offset === offset ? hint.hash : undefined;
    this.hashes.delete(id);
    const meter = new MeteredStream(hash, opts.length, this.limits.maxBlobBytes - offset);
    // pipeline() (not pipe()) so an aborted request body fails the append instead of stalling it.
    const metered = pipeline(body, meter, () => {});
    const size = await this.blobs.appendUpload(id, offset, metered, signal);
    if (hash) this.hashes.set(id, { hash, offset: size });
    return size;
  }

  /**
   * Checks the staged bytes against `digest` and makes them the blob, its data key wrapped by the
   * repository's key (a disabled KMS key stops the push here with `KmsError`). Throws `DigestMismatch`.
   */
  private async verifyAndCommit(repo: Repository, id: string, digest: Digest, size: number, signal: AbortSignal): Promise<void> {
    const actual = await this.digestOf(id, size, parseDigest(digest).algorithm, signal);
    if (actual !== digest) throw fail('DigestMismatch', 'provided digest did not match uploaded content', { digest, actual });
    await blobsFor(this.blobs, repo).commitUpload(id, digest, signal);
  }

  /** Cancels a session. Throws `UploadNotFound`. */
  async cancel(repository: RepoKey, id: string, signal: AbortSignal): Promise<void> {
    await this.status(repository, id, signal);
    await this.discard(repository, id, signal);
  }

  /**
   * Cross-repository mount: links `digest` from `from` (a repository of the same account; the
   * route builds its key from the target's account) into `repository` when `from` holds it
   * and both repositories have the same encryption configuration (as ECR: otherwise the blob is
   * uploaded again, so its data key gets wrapped by the target's key from the pushed bytes).
   * Resolves with the size, or `undefined` when the blob is not mountable (the caller then opens
   * an ordinary upload session).
   */
  async mount(repository: RepoKey, digestText: string, from: RepoKey, createRepository: boolean, signal: AbortSignal): Promise<{ digest: Digest; size: number } | undefined> {
    const { digest } = parseDigest(digestText);
    validateRepositoryName(repoName(from));
    const source = await this.meta.getBlobLink(from, digest, signal);
    if (!source || !(await this.blobs.stat(digest, signal))) return undefined;
    const target = await this.repos.forPush(repository, createRepository, signal);
    const sourceRepo = await this.meta.getRepository(from, signal);
    if (!sourceRepo || scopeName(scopeOf(sourceRepo)) !== scopeName(scopeOf(target))) return undefined;
    await this.linkVerified(repository, digest, source.size, signal);
    this.events.emit({ type: 'blob.pushed', repository, digest, size: source.size, at: new Date() });
    return { digest, size: source.size };
  }

  /**
   * Links a committed blob, then checks its bytes are still there. Garbage collection may have
   * deleted bytes an earlier push left unreferenced between this push's no-op commit (the digest
   * already existed) and its link; the link is then undone and the push told to retry, so a link
   * never points at nothing (core/ports/gc-store.ts explains the fence that closes the rest).
   */
  private async linkVerified(repository: RepoKey, digest: Digest, size: number, signal: AbortSignal, opts?: { endUpload?: string }): Promise<void> {
    await this.meta.linkBlob(repository, digest, size, signal, opts);
    if (await this.blobs.stat(digest, signal)) return;
    await this.meta.unlinkBlob(repository, digest, signal).catch(() => false);
    throw fail('Unavailable', 'the blob was garbage-collected while it was pushed; retry the upload', { digest });
  }

  private async discard(repository: RepoKey, id: string, signal: AbortSignal): Promise<void> {
    this.hashes.delete(id);
    await this.blobs.deleteUpload(id, signal);
    await this.meta.deleteUpload(repository, id, signal);
  }

  private async digestOf(id: string, size: number, algorithm: 'sha256' | 'sha512', signal: AbortSignal): Promise<Digest> {
    const hint = this.hashes.get(id);
    this.hashes.delete(id);
    if (algorithm === 'sha256' && hint && hint.offset === size) return `sha256:${hint.hash.digest('hex')}` as Digest;
    const hash = createHash(algorithm);
    for await (const chunk of await this.blobs.readUpload(id, signal)) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}` as Digest;
  }
}
