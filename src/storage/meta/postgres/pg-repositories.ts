import { fail } from '../../../core/errors.js';
import {
  DEFAULT_REPOSITORY_SETTINGS,
  type PageRequest, type Repository, type RepositoryInit, type RepositorySettings,
} from '../../../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import { limitOf } from '../cursors.js';
import { mergeSettings, REPOSITORY_COLUMNS, toRepository } from '../sqlite/rows.js';
import { repositoryNotFound, type Db } from './pg-common.js';

/*
 * Repository rows on PostgreSQL: creation, settings, listing, policy, deletion. Several nodes may
 * run any of these at once; each function says how it stays correct then.
 */

/** Rows of repository `key`: its account and name. */
function byKey(key: RepoKey) {
  const account = repoAccount(key);
  const name = repoName(key);
  return <Q extends { where(c: 'account_id', op: '=', v: string): Q; where(c: 'name', op: '=', v: string): Q }>(q: Q): Q =>
    q.where('account_id', '=', account).where('name', '=', name);
}

/**
 * Two nodes creating the same repository: `ON CONFLICT DO NOTHING` makes the second insert wait
 * for the first to commit and then insert nothing, so exactly one reports `created: true`. The
 * loser reads the winner's row in a second statement (a fresh READ COMMITTED snapshot that sees the
 * commit it waited for; a CTE in the same statement would not). If the row is gone again by then
 * (deleted on a third node), it tries once more, as a fresh create.
 */
export async function createRepository(db: Db, key: RepoKey, init: RepositoryInit | undefined): Promise<{ repository: Repository; created: boolean }> {
  const settings = JSON.stringify(mergeSettings(DEFAULT_REPOSITORY_SETTINGS, init?.settings));
  for (;;) {
    const inserted = await db.insertInto('repositories')
      .values({ name: repoName(key), created_at: Date.now(), account_id: repoAccount(key), settings })
      .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
      .returning(REPOSITORY_COLUMNS).executeTakeFirst();
    if (inserted) return { repository: toRepository(inserted), created: true };
    const existing = await db.selectFrom('repositories').select(REPOSITORY_COLUMNS).$call(byKey(key)).executeTakeFirst();
    if (existing) return { repository: toRepository(existing), created: false };
  }
}

/** Read-modify-write under the row's update lock, so two nodes' patches both apply (neither is lost). */
export async function updateRepository(db: Db, key: RepoKey, patch: Partial<RepositorySettings>): Promise<Repository> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('repositories').select(REPOSITORY_COLUMNS).$call(byKey(key)).forUpdate().executeTakeFirst();
    if (!row) throw repositoryNotFound(key);
    const current = toRepository(row);
    const settings = mergeSettings(current.settings, patch);
    await trx.updateTable('repositories').set({ settings: JSON.stringify(settings) }).$call(byKey(key)).execute();
    return { ...current, settings };
  });
}

export async function getRepository(db: Db, key: RepoKey): Promise<Repository | undefined> {
  const row = await db.selectFrom('repositories').select(REPOSITORY_COLUMNS).$call(byKey(key)).executeTakeFirst();
  return row && toRepository(row);
}

export async function listRepositories(db: Db, accountId: string, page: PageRequest): Promise<string[]> {
  let q = db.selectFrom('repositories').select('name').where('account_id', '=', accountId).orderBy('name').limit(limitOf(page.limit));
  if (page.last !== undefined) q = q.where('name', '>', page.last);
  return (await q.execute()).map((r) => r.name);
}

export async function listRepositoryDetails(db: Db, accountId: string, page: PageRequest): Promise<Repository[]> {
  let q = db.selectFrom('repositories').select(REPOSITORY_COLUMNS).where('account_id', '=', accountId)
    .orderBy('name').limit(limitOf(page.limit));
  if (page.last !== undefined) q = q.where('name', '>', page.last);
  return (await q.execute()).map(toRepository);
}

export async function getRepositoryPolicy(db: Db, key: RepoKey): Promise<string | undefined> {
  const row = await db.selectFrom('repositories').select('policy').$call(byKey(key)).executeTakeFirst();
  if (!row) throw repositoryNotFound(key);
  return row.policy ?? undefined;
}

export async function setRepositoryPolicy(db: Db, key: RepoKey, policy: string | undefined): Promise<void> {
  const result = await db.updateTable('repositories').set({ policy: policy ?? null }).$call(byKey(key)).executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw repositoryNotFound(key);
}

/**
 * Deletes a repository (ON DELETE CASCADE removes everything in it). With `onlyIfEmpty` the row is
 * locked FOR UPDATE first: a push on another node holds it FOR NO KEY UPDATE while it inserts a
 * manifest, so the emptiness check runs either after that push committed (and sees its manifest)
 * or before it started (and the push then finds no repository).
 */
export async function deleteRepository(db: Db, key: RepoKey, onlyIfEmpty: boolean): Promise<boolean> {
  if (!onlyIfEmpty) {
    const result = await db.deleteFrom('repositories').$call(byKey(key)).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
  return db.transaction().execute(async (trx) => {
    const id = (await trx.selectFrom('repositories').select('id').$call(byKey(key)).forUpdate().executeTakeFirst())?.id;
    if (id === undefined) return false;
    if (await trx.selectFrom('manifests').select('digest').where('repository_id', '=', id).limit(1).executeTakeFirst()) {
      throw fail('RepositoryNotEmpty', 'repository still contains images', { repository: repoName(key) });
    }
    await trx.deleteFrom('repositories').where('id', '=', id).execute();
    return true;
  });
}
