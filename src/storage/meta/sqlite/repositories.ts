import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import {
  DEFAULT_REPOSITORY_SETTINGS,
  type PageRequest, type Repository, type RepositoryInit, type RepositorySettings,
} from '../../../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import type { MetaSchema } from '../migrations/index.js';
import { mergeSettings, REPOSITORY_COLUMNS, toRepository } from './rows.js';
import type { Statements } from './statements.js';

/*
 * Repository rows: creation with owner and settings, settings changes, listing and the
 * repository policy. Each function is one atomic step; callers hold no transaction.
 */

/** Rows of repository `key`: its account and name. */
export function byKey(key: RepoKey) {
  const account = repoAccount(key);
  const name = repoName(key);
  return <Q extends { where(c: 'account_id', op: '=', v: string): Q; where(c: 'name', op: '=', v: string): Q }>(q: Q): Q =>
    q.where('account_id', '=', account).where('name', '=', name);
}

export function createRepository(
  db: Kysely<MetaSchema>, sql: Statements, key: RepoKey, init: RepositoryInit | undefined,
): { repository: Repository; created: boolean } {
  return sql.write(() => {
    const settings = mergeSettings(DEFAULT_REPOSITORY_SETTINGS, init?.settings);
    const changes = sql.run(db.insertInto('repositories').values({
      name: repoName(key),
      created_at: Date.now(),
      account_id: repoAccount(key),
      settings: JSON.stringify(settings),
    }).onConflict((oc) => oc.columns(['account_id', 'name']).doNothing()));
    const row = sql.get(db.selectFrom('repositories').select(REPOSITORY_COLUMNS).$call(byKey(key)));
    return { repository: toRepository(row!), created: changes > 0 };
  });
}

export function updateRepository(
  db: Kysely<MetaSchema>, sql: Statements, key: RepoKey, patch: Partial<RepositorySettings>,
): Repository {
  return sql.write(() => {
    const row = sql.get(db.selectFrom('repositories').select(REPOSITORY_COLUMNS).$call(byKey(key)));
    if (!row) throw notFound(key);
    const current = toRepository(row);
    const settings = mergeSettings(current.settings, patch);
    sql.run(db.updateTable('repositories').set({ settings: JSON.stringify(settings) }).$call(byKey(key)));
    return { ...current, settings };
  });
}

export function listRepositoryDetails(db: Kysely<MetaSchema>, sql: Statements, accountId: string, page: PageRequest): Repository[] {
  let q = db.selectFrom('repositories').select(REPOSITORY_COLUMNS).where('account_id', '=', accountId)
    .orderBy('name').limit(Math.max(0, Math.floor(page.limit)));
  if (page.last !== undefined) q = q.where('name', '>', page.last);
  return sql.all(q).map(toRepository);
}

export function getRepositoryPolicy(db: Kysely<MetaSchema>, sql: Statements, key: RepoKey): string | undefined {
  const row = sql.get(db.selectFrom('repositories').select('policy').$call(byKey(key)));
  if (!row) throw notFound(key);
  return row.policy ?? undefined;
}

export function setRepositoryPolicy(db: Kysely<MetaSchema>, sql: Statements, key: RepoKey, policy: string | undefined): void {
  const changes = sql.run(db.updateTable('repositories').set({ policy: policy ?? null }).$call(byKey(key)));
  if (changes === 0) throw notFound(key);
}

/**
 * Deletes a repository; with `onlyIfEmpty`, refuses while it holds a manifest. ON DELETE CASCADE
 * removes every row in the repository with it.
 */
export function deleteRepository(db: Kysely<MetaSchema>, sql: Statements, key: RepoKey, onlyIfEmpty: boolean): boolean {
  const remove = () => sql.run(db.deleteFrom('repositories').$call(byKey(key))) > 0;
  if (!onlyIfEmpty) return remove();
  return sql.write(() => {
    const id = sql.get(db.selectFrom('repositories').select('id').$call(byKey(key)))?.id;
    if (id === undefined) return false;
    if (sql.get(db.selectFrom('manifests').select('digest').where('repository_id', '=', id).limit(1))) {
      throw fail('RepositoryNotEmpty', 'repository still contains images', { repository: repoName(key) });
    }
    return remove();
  });
}

function notFound(key: RepoKey) {
  return fail('RepositoryNotFound', 'repository does not exist', { repository: repoName(key) });
}
