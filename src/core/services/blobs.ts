import { Readable } from 'node:stream';
import { type Digest, parseDigest } from '../digest.js';
import { fail } from '../errors.js';
import { EMPTY_JSON, EMPTY_JSON_DIGEST } from '../media-types.js';
import { blobsFor } from '../ports/blob-encryption.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetaStore } from '../ports/meta-store.js';
import type { RepositoryService } from './repositories.js';
import type { RepoKey } from '../repo-key.js';

export interface BlobRange {
  start: number;
  end: number;
}

export interface OpenedBlob {
  digest: Digest;
  size: number;
  range?: BlobRange;
  /** The bytes as a stream, when the store has no {@link pipeTo}. */
  body?: Readable;
  /** The store's buffer-reusing fast path (see `BlobStore.pipeTo`), when it has one. */
  pipeTo?: (write: (chunk: Buffer) => Promise<void>) => Promise<void>;
}

export interface BlobServiceOptions {
  /**
   * `storage.redirect`: blob downloads go to the store's presigned URLs (when the store offers
   * one for the blob — the encrypting wrapper only for plain objects of AES256 repositories —
   * and otherwise are served by berth as usual).
   */
  redirect?: boolean;
}

/** Lifetime of a redirect target: long enough to start the download, short enough not to leak. */
export const REDIRECT_URL_SECONDS = 300;

/** Reads and deletes blobs as a repository sees them: only blobs linked to it exist there. */
export class BlobService {
  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly repos: RepositoryService,
    private readonly options: BlobServiceOptions = {},
  ) {}

  /**
   * With `storage.redirect` on and a store that presigns: a URL valid for `expiresSeconds` from
   * which the client downloads blob `digestText` of the repository directly. `undefined` when
   * blobs are served by berth (redirect off, a store that declines, the built-in empty blob).
   * Throws like {@link stat}.
   */
  async downloadUrl(repository: RepoKey, digestText: string, expiresSeconds: number, signal: AbortSignal): Promise<{ digest: Digest; size: number; url: string } | undefined> {
    if (!this.options.redirect || !this.blobs.presignedUrl) return undefined;
    const { digest, size, repo } = await this.#stat(repository, digestText, signal);
    // The empty JSON blob may be answered without ever having been stored.
    if (digest === EMPTY_JSON_DIGEST) return undefined;
    // Asked through the repository's key: the encrypting store declines for KMS repositories and
    // for any blob it stores as an envelope, which berth then serves itself.
    const blobs = blobsFor(this.blobs, repo);
    const url = await blobs.presignedUrl?.(digest, expiresSeconds, signal);
    return url === undefined ? undefined : { digest, size, url };
  }

  /** Size of a blob of the repository. Throws `RepositoryNotFound`, `InvalidDigest`, `BlobNotFound`. */
  async stat(repository: RepoKey, digestText: string, signal: AbortSignal): Promise<{ digest: Digest; size: number }> {
    const { digest, size } = await this.#stat(repository, digestText, signal);
    return { digest, size };
  }

  async #stat(repository: RepoKey, digestText: string, signal: AbortSignal) {
    const { digest } = parseDigest(digestText);
    const repo = await this.repos.require(repository, signal);
    const link = await this.meta.getBlobLink(repository, digest, signal);
    if (link) return { digest, size: link.size, repo };
    if (digest === EMPTY_JSON_DIGEST) return { digest, size: EMPTY_JSON.length, repo };
    throw fail('BlobNotFound', 'blob unknown to registry', { digest });
  }

  /**
   * Opens a blob, or the range `pickRange(size)` chooses (which may throw `RangeNotSatisfiable`).
   * The metadata link is checked first, so a blob that is linked but missing from storage is an
   * internal error, not a 404: fsck reports it.
   */
  async open(
    repository: RepoKey,
    digestText: string,
    pickRange: ((size: number) => BlobRange | undefined) | undefined,
    signal: AbortSignal,
  ): Promise<OpenedBlob> {
    const { digest, size, repo } = await this.#stat(repository, digestText, signal);
    const range = pickRange?.(size);
    // Reads go through the repository's key: a disabled KMS key stops them here (KmsError).
    const blobs = blobsFor(this.blobs, repo);
    if (digest === EMPTY_JSON_DIGEST && !(await blobs.stat(digest, signal))) {
      const bytes = range ? EMPTY_JSON.subarray(range.start, range.end + 1) : EMPTY_JSON;
      return { digest, size, ...(range ? { range } : {}), body: Readable.from([bytes]) };
    }
    const pipeTo = blobs.pipeTo?.bind(blobs);
    if (pipeTo && (await blobs.stat(digest, signal))) {
      return { digest, size, ...(range ? { range } : {}), pipeTo: (write) => pipeTo(digest, range, write, signal) };
    }
    try {
      const body = await blobs.read(digest, range, signal);
      return { digest, size, ...(range ? { range } : {}), body };
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'BlobNotFound') {
        throw fail('Internal', 'blob is recorded but missing from storage; run berth fsck', { digest });
      }
      throw err;
    }
  }

  /** Removes a blob from a repository (the bytes go with garbage collection). Throws `BlobNotFound`, `BlobReferenced`. */
  async delete(repository: RepoKey, digestText: string, signal: AbortSignal): Promise<Digest> {
    const { digest } = parseDigest(digestText);
    await this.repos.require(repository, signal);
    if (!(await this.meta.unlinkBlob(repository, digest, signal))) {
      throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    }
    return digest;
  }
}
