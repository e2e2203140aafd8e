import type { Digest } from '../../../core/digest.js';
import type {
  ImageDetail, ImageId, ManifestRecord, MetaStore, PageRequest, PutManifestInput, Referrer, Repository, RepositoryInit,
  RepositorySettings, UploadSession,
} from '../../../core/ports/meta-store.js';
import type { RepoKey } from '../../../core/repo-key.js';
import type { TagFilter } from '../sqlite/images.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import * as links from './pg-blob-links.js';
import { lockRepository } from './pg-common.js';
import * as images from './pg-images.js';
import * as manifests from './pg-manifests.js';
import { putManifest } from './pg-put-manifest.js';
import * as registry from './pg-registry-settings.js';
import * as repos from './pg-repositories.js';
import { listBlobReferences, listLinkedBlobs } from './pg-scans.js';
import * as uploads from './pg-uploads.js';

/**
 * Opens the metadata store on the PostgreSQL database at `url`, on this process's shared pool
 * (opened and migrated under an advisory lock on first use; see open.ts). Throws when the database
 * cannot be reached or migrated.
 */
export async function openPostgresMetaStore(opts: { url: string; poolSize: number }): Promise<PostgresMetaStore> {
  return new PostgresMetaStore(await leasePostgres(opts));
}

/**
 * {@link MetaStore} on PostgreSQL, for any number of berth nodes on one database. Same tables and
 * row mappers as the SQLite store; where SQLite relied on its single writer, each write here takes
 * the row lock (or advisory lock) its race needs, documented where it is taken: repository row
 * locks in pg-common.ts, the tag/push serialization in pg-put-manifest.ts, the upload
 * compare-and-set in pg-uploads.ts, the GC fence in pg-blob-fence.ts. The hot reads (getManifest,
 * resolveTag, getBlobLink, getRepository) are one statement each: one round trip.
 */
export class PostgresMetaStore implements MetaStore {
  readonly #db;

  /** Use {@link openPostgresMetaStore}; `handle` is a lease (closed by {@link close}) or a pool of its own. */
  constructor(private readonly handle: PostgresHandle) {
    this.#db = handle.db;
  }

  async createRepository(repository: RepoKey, signal: AbortSignal, init?: RepositoryInit): Promise<{ repository: Repository; created: boolean }> {
    signal.throwIfAborted();
    return repos.createRepository(this.#db, repository, init);
  }

  async updateRepository(repository: RepoKey, patch: Partial<RepositorySettings>, signal: AbortSignal): Promise<Repository> {
    signal.throwIfAborted();
    return repos.updateRepository(this.#db, repository, patch);
  }

  async listRepositoryDetails(accountId: string, page: PageRequest, signal: AbortSignal): Promise<Repository[]> {
    signal.throwIfAborted();
    return repos.listRepositoryDetails(this.#db, accountId, page);
  }

  async getRepositoryPolicy(repository: RepoKey, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return repos.getRepositoryPolicy(this.#db, repository);
  }

  async setRepositoryPolicy(repository: RepoKey, policy: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await repos.setRepositoryPolicy(this.#db, repository, policy);
  }

  async getRepository(repository: RepoKey, signal: AbortSignal): Promise<Repository | undefined> {
    signal.throwIfAborted();
    return repos.getRepository(this.#db, repository);
  }

  async listRepositories(accountId: string, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return repos.listRepositories(this.#db, accountId, page);
  }

  async deleteRepository(repository: RepoKey, signal: AbortSignal, opts?: { onlyIfEmpty?: boolean }): Promise<boolean> {
    signal.throwIfAborted();
    return repos.deleteRepository(this.#db, repository, opts?.onlyIfEmpty ?? false);
  }

  async linkBlob(repository: RepoKey, digest: Digest, size: number, signal: AbortSignal, opts: { endUpload?: string } = {}): Promise<void> {
    signal.throwIfAborted();
    await links.linkBlob(this.#db, repository, digest, size, opts.endUpload);
  }

  async getBlobLink(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    signal.throwIfAborted();
    return links.getBlobLink(this.#db, repository, digest);
  }

  async unlinkBlob(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return links.unlinkBlob(this.#db, repository, digest);
  }

  async createUpload(session: { id: string; repository: RepoKey }, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    return uploads.createUpload(this.#db, session);
  }

  async getUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<UploadSession | undefined> {
    signal.throwIfAborted();
    return uploads.getUpload(this.#db, repository, id);
  }

  async advanceUpload(repository: RepoKey, id: string, expected: number, size: number, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    return uploads.advanceUpload(this.#db, repository, id, expected, size);
  }

  async deleteUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return uploads.deleteUpload(this.#db, repository, id);
  }

  async listStaleUploads(before: Date, signal: AbortSignal): Promise<UploadSession[]> {
    signal.throwIfAborted();
    return uploads.listStaleUploads(this.#db, before);
  }

  async putManifest(input: PutManifestInput, signal: AbortSignal): Promise<{ created: boolean; previous?: Digest }> {
    signal.throwIfAborted();
    return putManifest(this.#db, input);
  }

  async getManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined> {
    signal.throwIfAborted();
    return manifests.getManifest(this.#db, repository, digest);
  }

  async resolveTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<Digest | undefined> {
    signal.throwIfAborted();
    return manifests.resolveTag(this.#db, repository, tag);
  }

  async deleteManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ tags: string[] } | undefined> {
    signal.throwIfAborted();
    return manifests.deleteManifest(this.#db, repository, digest);
  }

  async deleteTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return manifests.deleteTag(this.#db, repository, tag);
  }

  async listTags(repository: RepoKey, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return manifests.listTags(this.#db, repository, page);
  }

  async listReferrers(repository: RepoKey, subject: Digest, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]> {
    signal.throwIfAborted();
    return manifests.listReferrers(this.#db, repository, subject, artifactType);
  }

  async listImageIds(repository: RepoKey, query: { filter?: TagFilter; after?: string; limit: number }, signal: AbortSignal): Promise<{ ids: ImageId[]; next?: string }> {
    signal.throwIfAborted();
    return this.#snapshot(async (trx) => images.listImageIds(trx, await lockRepository(trx, repository, 'none'), query));
  }

  async describeImages(repository: RepoKey, query: { digests?: Digest[]; filter?: TagFilter; after?: string; limit: number }, signal: AbortSignal): Promise<{ images: ImageDetail[]; next?: string }> {
    signal.throwIfAborted();
    return this.#snapshot(async (trx) => images.describeImages(trx, await lockRepository(trx, repository, 'none'), query));
  }

  async recordPull(repository: RepoKey, digest: Digest, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await images.recordPull(this.#db, repository, digest, at);
  }

  async getRegistryPolicy(accountId: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return registry.getRegistryPolicy(this.#db, accountId);
  }

  async setRegistryPolicy(accountId: string, policy: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await registry.setRegistryPolicy(this.#db, accountId, policy);
  }

  async getAccountSetting(accountId: string, name: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return registry.getAccountSetting(this.#db, accountId, name);
  }

  async putAccountSetting(accountId: string, name: string, value: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await registry.putAccountSetting(this.#db, accountId, name, value);
  }

  listBlobReferences(signal: AbortSignal): AsyncIterable<{ repository: RepoKey; manifest: Digest; blob: Digest }> {
    return listBlobReferences(this.#db, signal);
  }

  listLinkedBlobs(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number }> {
    return listLinkedBlobs(this.#db, signal);
  }

  /** Releases this store's lease on the pool; kysely's pool lets running queries finish before it ends. */
  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Runs a multi-query read in one READ ONLY, REPEATABLE READ transaction: every query sees one snapshot. */
  #snapshot<T>(work: (trx: typeof this.handle.db) => Promise<T>): Promise<T> {
    return this.#db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
  }
}
