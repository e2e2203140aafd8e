import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type {
  ManifestRecord, MetaStore, PageRequest, PutManifestInput, Referrer, Repository, UploadSession,
} from '../../../core/ports/meta-store.js';
import { migrateMetaStore, SQLITE_TYPES, type MetaSchema } from '../migrations/index.js';
import { Statements } from './statements.js';
import { putManifest } from './put-manifest.js';
import { toManifest, toReferrer, toUpload, type ManifestRow } from './rows.js';

/** Rows per page when streaming whole tables, so no read holds the connection for long. */
const PAGE = 500;

/**
 * Opens (creating if needed) the SQLite metadata store at `path` (`':memory:'` for a throwaway one)
 * and applies pending migrations atomically. Throws when the file cannot be opened or migrated.
 */
export async function openSqliteMetaStore(opts: { path: string }): Promise<SqliteMetaStore> {
  const sqlite = new Database(opts.path);
  const db = new Kysely<MetaSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // SQLite DDL is transactional even though kysely does not assume so; holding the write lock
    // for the whole run also stops two processes opening a fresh file from migrating it twice.
    sqlite.exec('BEGIN IMMEDIATE');
    try {
      await migrateMetaStore(db as Kysely<unknown>, SQLITE_TYPES);
      sqlite.exec('COMMIT');
    } catch (e) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw e;
    }
    return new SqliteMetaStore(db, new Statements(sqlite));
  } catch (e) {
    await db.destroy();
    throw e;
  }
}

/**
 * {@link MetaStore} on one SQLite file (WAL), for the single-node deployment. kysely builds the SQL;
 * statements run synchronously on better-sqlite3, so every method is one atomic step.
 */
export class SqliteMetaStore implements MetaStore {
  readonly #getManifest;
  readonly #resolveTag;
  readonly #repositoryId;

  /** Use {@link openSqliteMetaStore}, which migrates first. */
  constructor(private readonly db: Kysely<MetaSchema>, private readonly sql: Statements) {
    this.#repositoryId = sql.template<{ id: number }, 'name'>((p) =>
      db.selectFrom('repositories').select('id').where('name', '=', p('name')));
    this.#getManifest = sql.template<ManifestRow, 'repository' | 'digest'>((p) =>
      db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
        .select(['m.digest', 'm.media_type', 'm.size', 'm.body', 'm.artifact_type', 'm.subject', 'm.annotations', 'm.pushed_at'])
        .where('r.name', '=', p('repository')).where('m.digest', '=', p('digest')));
    this.#resolveTag = sql.template<{ digest: string }, 'repository' | 'tag'>((p) =>
      db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
        .select('t.digest').where('r.name', '=', p('repository')).where('t.name', '=', p('tag')));
  }

  async createRepository(name: string, signal: AbortSignal): Promise<{ repository: Repository; created: boolean }> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const changes = this.sql.run(this.db.insertInto('repositories').values({ name, created_at: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing()));
      const row = this.sql.get(this.db.selectFrom('repositories').select('created_at').where('name', '=', name));
      return { repository: { name, createdAt: new Date(row!.created_at) }, created: changes > 0 };
    });
  }

  async getRepository(name: string, signal: AbortSignal): Promise<Repository | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('repositories').select('created_at').where('name', '=', name));
    return row && { name, createdAt: new Date(row.created_at) };
  }

  async listRepositories(page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('repositories').select('name').orderBy('name').limit(limitOf(page));
    if (page.last !== undefined) q = q.where('name', '>', page.last);
    return this.sql.all(q).map((r) => r.name);
  }

  async deleteRepository(name: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    // One statement; ON DELETE CASCADE removes everything in the repository with it.
    return this.sql.run(this.db.deleteFrom('repositories').where('name', '=', name)) > 0;
  }

  async linkBlob(repository: string, digest: Digest, size: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sql.write(() => {
      const id = this.#requireRepository(repository);
      this.sql.run(this.db.insertInto('repository_blobs')
        .values({ repository_id: id, digest, size, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()));
    });
  }

  async getBlobLink(repository: string, digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined> {
    signal.throwIfAborted();
    const row = this.sql.get(this.db.selectFrom('repository_blobs as b').innerJoin('repositories as r', 'r.id', 'b.repository_id')
      .select('b.size').where('r.name', '=', repository).where('b.digest', '=', digest));
    return row && { size: row.size };
  }

  async unlinkBlob(repository: string, digest: Digest, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#repositoryId({ name: repository })?.id;
      if (id === undefined) return false;
      const ref = this.sql.get(this.db.selectFrom('manifest_blobs').select('manifest_digest')
        .where('repository_id', '=', id).where('blob_digest', '=', digest).limit(1));
      if (ref) throw fail('BlobReferenced', 'blob is referenced by a manifest', { digest, manifest: ref.manifest_digest });
      return this.sql.run(this.db.deleteFrom('repository_blobs').where('repository_id', '=', id).where('digest', '=', digest)) > 0;
    });
  }

  async createUpload(session: { id: string; repository: string }, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#requireRepository(session.repository);
      if (this.sql.get(this.db.selectFrom('uploads').select('id').where('id', '=', session.id))) {
        throw fail('UploadInvalid', 'upload session id already in use', { id: session.id });
      }
      const now = Date.now();
      this.sql.run(this.db.insertInto('uploads')
        .values({ id: session.id, repository_id: id, size: 0, started_at: now, updated_at: now }));
      return toUpload(session.repository, { id: session.id, size: 0, started_at: now, updated_at: now });
    });
  }

  async getUpload(repository: string, id: string, signal: AbortSignal): Promise<UploadSession | undefined> {
    signal.throwIfAborted();
    const row = this.#upload(repository, id);
    return row && toUpload(repository, row);
  }

  async advanceUpload(repository: string, id: string, expected: number, size: number, signal: AbortSignal): Promise<UploadSession> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const row = this.#upload(repository, id);
      if (!row) throw fail('UploadNotFound', 'upload session unknown', { id });
      if (row.size !== expected) throw fail('UploadInvalid', 'upload moved on concurrently', { id, expected, actual: row.size });
      const now = Date.now();
      this.sql.run(this.db.updateTable('uploads').set({ size, updated_at: now }).where('id', '=', id));
      return toUpload(repository, { ...row, size, updated_at: now });
    });
  }

  async deleteUpload(repository: string, id: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('uploads').where('id', '=', id)
      .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('repositories.id').where('name', '=', repository))) > 0;
  }

  async listStaleUploads(before: Date, signal: AbortSignal): Promise<UploadSession[]> {
    signal.throwIfAborted();
    const rows = this.sql.all(this.db.selectFrom('uploads as u').innerJoin('repositories as r', 'r.id', 'u.repository_id')
      .select(['u.id', 'u.size', 'u.started_at', 'u.updated_at', 'r.name'])
      .where('u.updated_at', '<', before.getTime()).orderBy('u.updated_at').orderBy('u.id'));
    return rows.map((row) => toUpload(row.name, row));
  }

  async putManifest(input: PutManifestInput, signal: AbortSignal): Promise<{ created: boolean; previous?: Digest }> {
    signal.throwIfAborted();
    return this.sql.write(() => putManifest(this.db, this.sql, this.#requireRepository(input.repository), input));
  }

  async getManifest(repository: string, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined> {
    signal.throwIfAborted();
    const row = this.#getManifest({ repository, digest });
    return row && toManifest(repository, row);
  }

  async resolveTag(repository: string, tag: string, signal: AbortSignal): Promise<Digest | undefined> {
    signal.throwIfAborted();
    return this.#resolveTag({ repository, tag })?.digest as Digest | undefined;
  }

  async deleteManifest(repository: string, digest: Digest, signal: AbortSignal): Promise<{ tags: string[] } | undefined> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const id = this.#repositoryId({ name: repository })?.id;
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

  async deleteTag(repository: string, tag: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.run(this.db.deleteFrom('tags').where('name', '=', tag)
      .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('id').where('name', '=', repository))) > 0;
  }

  async listTags(repository: string, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
      .select('t.name').where('r.name', '=', repository).orderBy('t.name').limit(limitOf(page));
    if (page.last !== undefined) q = q.where('t.name', '>', page.last);
    return this.sql.all(q).map((r) => r.name);
  }

  async listReferrers(repository: string, subject: Digest, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(['m.media_type', 'm.digest', 'm.size', 'm.artifact_type', 'm.annotations'])
      .where('r.name', '=', repository).where('m.subject', '=', subject).orderBy('m.digest');
    if (artifactType !== undefined) q = q.where('m.artifact_type', '=', artifactType);
    return this.sql.all(q).map(toReferrer);
  }

  async *listBlobReferences(signal: AbortSignal): AsyncIterable<{ repository: string; manifest: Digest; blob: Digest }> {
    let after: [number, string, string] | undefined;
    for (;;) {
      signal.throwIfAborted();
      let q = this.db.selectFrom('manifest_blobs as mb').innerJoin('repositories as r', 'r.id', 'mb.repository_id')
        .select(['mb.repository_id', 'r.name', 'mb.manifest_digest', 'mb.blob_digest'])
        .orderBy('mb.repository_id').orderBy('mb.manifest_digest').orderBy('mb.blob_digest').limit(PAGE);
      if (after) {
        const [a, b, c] = after;
        q = q.where(({ eb, refTuple, tuple }) =>
          eb(refTuple('mb.repository_id', 'mb.manifest_digest', 'mb.blob_digest'), '>', tuple(a, b, c)));
      }
      const rows = this.sql.all(q);
      for (const r of rows) yield { repository: r.name, manifest: r.manifest_digest as Digest, blob: r.blob_digest as Digest };
      const last = rows.at(-1);
      if (rows.length < PAGE || !last) return;
      after = [last.repository_id, last.manifest_digest, last.blob_digest];
    }
  }

  async *listLinkedBlobs(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number }> {
    let after: string | undefined;
    for (;;) {
      signal.throwIfAborted();
      let q = this.db.selectFrom('repository_blobs')
        .select(({ fn }) => ['digest', fn.max<number>('size').as('size')])
        .groupBy('digest').orderBy('digest').limit(PAGE);
      if (after !== undefined) q = q.where('digest', '>', after);
      const rows = this.sql.all(q);
      for (const r of rows) yield { digest: r.digest as Digest, size: r.size };
      if (rows.length < PAGE) return;
      after = rows.at(-1)?.digest;
    }
  }

  async close(): Promise<void> {
    // Every call runs to completion synchronously, so nothing is pending here; this closes the file.
    await this.db.destroy();
  }

  #requireRepository(name: string): number {
    const row = this.#repositoryId({ name });
    if (!row) throw fail('RepositoryNotFound', 'repository does not exist', { repository: name });
    return row.id;
  }

  #upload(repository: string, id: string) {
    return this.sql.get(this.db.selectFrom('uploads as u').innerJoin('repositories as r', 'r.id', 'u.repository_id')
      .select(['u.id', 'u.size', 'u.started_at', 'u.updated_at']).where('u.id', '=', id).where('r.name', '=', repository));
  }
}

/** A page size SQLite honours: negative LIMIT would mean "no limit". */
function limitOf(page: PageRequest): number {
  return Math.max(0, Math.floor(page.limit));
}
