import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import type { MetaSchema } from '../migrations/index.js';

/*
 * Helpers shared by the PostgreSQL metadata store's files. Functions take a `Kysely<MetaSchema>`,
 * which is either the pool (each statement its own transaction) or a transaction handle.
 */

export type Db = Kysely<MetaSchema>;

/** How a transaction holds the repository row it works in (PostgreSQL row-lock strengths). */
export type RepositoryLock =
  /** No lock: only reads follow (inside a snapshot transaction). */
  | 'none'
  /** Blocks only deleting the repository: links and uploads of one repository proceed in parallel. */
  | 'key share'
  /**
   * Serializes writers of the repository's manifests and tags (what SQLite's single writer gave):
   * one node's push checks the tag it moves, allocates the next push time and inserts, while
   * another node's push to the same repository waits. Repositories do not wait for each other.
   */
  | 'no key update'
  /** Excludes every other writer of the repository (settings changes, deleting it). */
  | 'update';

/**
 * The repository's id, with the row locked for the rest of the transaction as `lock` says; throws
 * `RepositoryNotFound`. Locking first also means a repository deleted by another node meanwhile is
 * reported as not found, never as a foreign-key error halfway through.
 */
export async function lockRepository(db: Db, key: RepoKey, lock: RepositoryLock): Promise<number> {
  const q = db.selectFrom('repositories').select('id').where('account_id', '=', repoAccount(key)).where('name', '=', repoName(key));
  const locked = lock === 'none' ? q : lock === 'key share' ? q.forKeyShare() : lock === 'no key update' ? q.forNoKeyUpdate() : q.forUpdate();
  const row = await locked.executeTakeFirst();
  if (!row) throw repositoryNotFound(key);
  return row.id;
}

export function repositoryNotFound(key: RepoKey) {
  return fail('RepositoryNotFound', 'repository does not exist', { repository: repoName(key) });
}

/** The SQLSTATE of a PostgreSQL error (`pg` puts it on `code`), or undefined. */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** unique_violation: another node inserted the same key first. */
export const UNIQUE_VIOLATION = '23505';
/** foreign_key_violation: a referenced row was deleted (or a referencing one inserted) by another node. */
export const FOREIGN_KEY_VIOLATION = '23503';
