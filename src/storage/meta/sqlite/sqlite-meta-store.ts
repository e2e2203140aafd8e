import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type {
  ImageDetail, ImageId, ManifestRecord, MetaStore, PageRequest, PutManifestInput, Referrer, Repository, RepositoryInit,
  RepositorySettings, UploadSession,
} from '../../../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import type { MetaSchema } from '../migrations/index.js';
import { sqlText, type Statements } from './statements.js';
import { openSqlite } from './open.js';
import { putManifest } from './put-manifest.js';
import { describeImages, listImageIds, recordPull, type TagFilter } from './images.js';
import * as registry from './registry-settings.js';
import * as repos from './repositories.js';
import { REPOSITORY_COLUMNS, toManifest, toReferrer, toRepository, type ManifestRow, type RepositoryRow } from './rows.js';
import { listBlobReferences, listLinkedBlobs } from './scans.js';
import { TagCache } from './tag-cache.js';
import * as uploads from './uploads.js';

/**
 * Opens (creating if needed) the SQLite metadata store at `path` (`':memory:'` for a throwaway one)
 * and applies pending migrations atomically. Throws when the file cannot be opened or migrated.
 */
export async function openSqliteMetaStore(opts: { path: string; ownConnection?: boolean }): Promise<SqliteMetaStore> {
  const { db, sql } = await openSqlite<MetaSchema>(opts.path, { ownConnection: opts.ownConnection });
  return new SqliteMetaStore(db, sql);
}

/**
 * {@link MetaStore} on one SQLite file (WAL), for the single-node deployment. kysely builds the SQL;
 * statements run synchronously on better-sqlite3, so every method is one atomic step.
 */
export class SqliteMetaStore implements MetaStore {
  readonly #getManifest;
  readonly #resolveTag;
  readonly #repositoryId;
  readonly #getRepository;
  readonly #lastPull;
  readonly #tags: TagCache;

  /** Use {@link openSqliteMetaStore}, which migrates first. */
  constructor(private readonly db: Kysely<MetaSchema>, private readonly sql: Statements) {
    this.#tags = new TagCache(sql);
    this.#repositoryId = sql.template<{ id: number }, 'account' | 'name'>((p) =>
      db.selectFrom('repositories').select('id').where('account_id', '=', p('account')).where('name', '=', p('name')));
    this.#getManifest = sql.template<ManifestRow, 'account' | 'name' | 'digest'>((p) =>
      db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
        .select(['m.digest', 'm.media_type', 'm.size', 'm.body', 'm.artifact_type', 'm.subject', 'm.annotations', 'm.pushed_at'])
        .where('r.account_id', '=', p('account')).where('r.name', '=', p('name')).where('m.digest', '=', p('digest')));
    this.#getRepository = sql.template<RepositoryRow, 'account' | 'name'>((p) =>
      db.selectFrom('repositories').select(REPOSITORY_COLUMNS).where('account_id', '=', p('account')).where('name', '=', p('name')));
    this.#lastPull = sql.template<{ repository_id: number; last_pulled_at: number | null }, 'account' | 'name' | 'digest'>((p) =>
      db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
        .select(['m.repository_id', 'm.last_pulled_at']).where('r.account_id', '=', p('account')).where('r.name', '=', p('name')).where('m.digest', '=', p('digest')));
    this.#resolveTag = sql.template<{ digest: string }, 'account' | 'name' | 'tag'>((p) =>
      db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
        .select('t.digest').where('r.account_id', '=', p('account')).where('r.name', '=', p('name')).where('t.name', '=', p('tag')));
  }

  async createRepository(repository: RepoKey, signal: AbortSignal, init?: RepositoryInit): Promise<{ repository: Repository; created: boolean }> {
    signal.throwIfAborted();
    return repos.createRepository(this.db, this.sql, repository, init);
  }

  async updateRepository(repository: RepoKey, patch: Partial<RepositorySettings>, signal: AbortSignal): Promise<Repository> {
    signal.throwIfAborted();
    return repos.updateRepository(this.db, this.sql, repository, patch);
  }

  async listRepositoryDetails(accountId: string, page: PageRequest, signal: AbortSignal): Promise<Repository[]> {
    signal.throwIfAborted();
    return repos.listRepositoryDetails(this.db, this.sql, accountId, page);
  }

  async getRepositoryPolicy(repository: RepoKey, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return repos.getRepositoryPolicy(this.db, this.sql, repository);
  }

  async setRepositoryPolicy(repository: RepoKey, policy: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    repos.setRepositoryPolicy(this.db, this.sql, repository, policy);
  }

  async getRepository(repository: RepoKey, signal: AbortSignal): Promise<Repository | undefined> {
    signal.throwIfAborted();
    const row = this.#getRepository(params(repository));
    return row && toRepository(row);
  }

  async listRepositories(accountId: string, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    // SQL text: a start lists an account's repositories (the public alias check) before any query is built.
    const rows = page.last === undefined
      ? this.sql.all(sqlText<{ name: string }>('select name from repositories where account_id = ? order by name limit ?', accountId, limitOf(page)))
      : this.sql.all(sqlText<{ name: string }>('select name from repositories where account_id = ? and name > ? order by name limit ?', accountId, page.last, limitOf(page)));
    return rows.map((r) => r.name);
  }

  async deleteRepository(repository: RepoKey, signal: AbortSignal, opts?: { onlyIfEmpty?: boolean }): Promise<boolean> {
    signal.throwIfAborted();
    return repos.deleteRepository(this.db, this.sql, repository, opts?.onlyIfEmpty ?? false);
  }

  async linkBlob(repository: RepoKey, digest: Digest, size: number, signal: AbortSignal, opts: { endUpload?: string } = {}): Promise<void> {
    signal.throwIfAborted();
    this.sql.write(() => {
      const id = this.#requireRepository(repository);
      // Garbage collection is deleting these bytes (see core/ports/gc-store.ts): the push must retry.
      if (this.sql.get(this.db.selectFrom('gc_blob_fence').select('digest').where('digest', '=', digest))) {
        throw fail('Unavailable', 'the blob is being garbage-collected; retry the upload', { digest });
      }
      this.sql.run(this.db.insertInto('repository_blobs')
        .values({ repository_id: id, digest, size, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()));
      if (opts.endUpload !== undefined) {
        this.sql.run(this.db.deleteFrom('uploads').where('id', '=', opts.endUpload).where('repository_id', '=', id));
      }
    });
  }

  async getBlobLink(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('repository_blobs as b').innerJoin('repositories as r', 'r.id', 'b.repository_id')
      .select('b.size').where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository)).where('b.digest', '=', digest));
    return row && { size: row.size };
  }

  async unlinkBlob(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#repositoryId(params(repository))?.id;
      if (id === undefined) return false;
      const ref = this.sql.get(this.db.selectFrom('manifest_blobs').select('manifest_digest')
        .where('repository_id', '=', id).where('blob_digest', '=', digest).limit(1));
      if (ref) throw fail('BlobReferenced', 'blob is referenced by a manifest', { digest, manifest: ref.manifest_digest });
      return this.sql.run(this.db.deleteFrom('repository_blobs').where('repository_id', '=', id).where('digest', '=', digest)) > 0;
    });
  }

  async createUpload(session: { id: string; repository: RepoKey }, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    return this.sql.write(() => uploads.createUpload(this.db, this.sql, this.#requireRepository(session.repository), session));
  }

  async getUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<UploadSession | undefined> {
    signal.throwIfAborted();
    return uploads.getUpload(this.db, this.sql, repository, id);
  }

  async advanceUpload(repository: RepoKey, id: string, expected: number, size: number, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    return uploads.advanceUpload(this.db, this.sql, repository, id, expected, size);
  }

  async deleteUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return uploads.deleteUpload(this.db, this.sql, repository, id);
  }

  async listStaleUploads(before: Date, signal: AbortSignal): Promise<UploadSession[]> {
    signal.throwIfAborted();
    return uploads.listStaleUploads(this.db, this.sql, before);
  }

  async putManifest(input: PutManifestInput, signal: AbortSignal): Promise<{ created: boolean; previous?: Digest }> {
    signal.throwIfAborted();
    return this.sql.write(() => putManifest(this.db, this.sql, this.#requireRepository(input.repository), input));
  }

  async getManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined> {
    signal.throwIfAborted();
    const row = this.#getManifest({ ...params(repository), digest });
    return row && toManifest(repository, row);
  }

  async resolveTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<Digest | undefined> {
    signal.throwIfAborted();
    return this.#tags.resolve(repository, tag, () => this.#resolveTag({ ...params(repository), tag })?.digest) as Digest | undefined;
  }

  async deleteManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ tags: string[] } | undefined> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#repositoryId(params(repository))?.id;
      if (id === undefined) return undefined;
      if (!this.sql.get(this.db.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', '=', digest))) {
        return undefined;
      }
      const parent = this.sql.get(this.db.selectFrom('manifest_children').select('parent_digest')
        .where('repository_id', '=', id).where('child_digest', '=', digest).limit(1));
      if (parent) throw fail('ManifestReferenced', 'manifest is listed by an index', { digest, index: parent.parent_digest });
      const tags = this.sql.all(this.db.selectFrom('tags').select('name')
        .where('repository_id', '=', id).where('digest', '=', digest).orderBy('name')).map((t) => t.name);
      this.sql.run(this.db.deleteFrom('tags').where('repository_id', '=', id).where('digest', '=', digest));
      // manifest_blobs and manifest_children rows of this manifest go with it (ON DELETE CASCADE).
      this.sql.run(this.db.deleteFrom('manifests').where('repository_id', '=', id).where('digest', '=', digest));
      return { tags };
    });
  }

  async deleteTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('tags').where('name', '=', tag)
      .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('id')
        .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository)))) > 0;
  }

  async listTags(repository: RepoKey, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
      .select('t.name').where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository)).orderBy('t.name').limit(limitOf(page));
    if (page.last !== undefined) q = q.where('t.name', '>', page.last);
    return this.sql.all(q).map((r) => r.name);
  }

  async listReferrers(repository: RepoKey, subject: Digest, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(['m.media_type', 'm.digest', 'm.size', 'm.artifact_type', 'm.annotations'])
      .where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository)).where('m.subject', '=', subject).orderBy('m.digest');
    if (artifactType !== undefined) q = q.where('m.artifact_type', '=', artifactType);
    return this.sql.all(q).map(toReferrer);
  }

  async listImageIds(repository: RepoKey, query: { filter?: TagFilter; after?: string; limit: number }, signal: AbortSignal): Promise<{ ids: ImageId[]; next?: string }> {
    signal.throwIfAborted();
    return this.sql.read(() => listImageIds(this.db, this.sql, this.#requireRepository(repository), query));
  }

  async describeImages(repository: RepoKey, query: { digests?: Digest[]; filter?: TagFilter; after?: string; limit: number }, signal: AbortSignal): Promise<{ images: ImageDetail[]; next?: string }> {
    signal.throwIfAborted();
    return this.sql.read(() => describeImages(this.db, this.sql, this.#requireRepository(repository), query));
  }

  async recordPull(repository: RepoKey, digest: Digest, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const current = this.#lastPull({ ...params(repository), digest });
    if (current) recordPull(this.db, this.sql, current, digest, at);
  }

  async getRegistryPolicy(accountId: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return registry.getRegistryPolicy(this.db, this.sql, accountId);
  }

  async setRegistryPolicy(accountId: string, policy: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    registry.setRegistryPolicy(this.db, this.sql, accountId, policy);
  }

  async getAccountSetting(accountId: string, name: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return registry.getAccountSetting(this.db, this.sql, accountId, name);
  }

  async putAccountSetting(accountId: string, name: string, value: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    registry.putAccountSetting(this.db, this.sql, accountId, name, value);
  }

  listBlobReferences(signal: AbortSignal): AsyncIterable<{ repository: RepoKey; manifest: Digest; blob: Digest }> {
    return listBlobReferences(this.db, this.sql, signal);
  }

  listLinkedBlobs(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number }> {
    return listLinkedBlobs(this.db, this.sql, signal);
  }

  async close(): Promise<void> {
    // Every call runs to completion synchronously, so nothing is pending here; this lets go of
    // the file's connection (shared with the process's other stores of the file, open.ts).
    this.sql.close();
  }

  #requireRepository(repository: RepoKey): number {
    const row = this.#repositoryId(params(repository));
    if (!row) throw fail('RepositoryNotFound', 'repository does not exist', { repository: repoName(repository) });
    return row.id;
  }
}

/** The bound values that name a repository in the prepared templates. */
function params(key: RepoKey): { account: string; name: string } {
  return { account: repoAccount(key), name: repoName(key) };
}

/** A page size SQLite honours: negative LIMIT would mean "no limit". */
function limitOf(page: PageRequest): number {
  return Math.max(0, Math.floor(page.limit));
}
