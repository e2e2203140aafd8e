import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_REPOSITORY_SETTINGS,
  type PageRequest, type Repository, type RepositoryInit, type RepositorySettings,
} from '../../../core/ports/meta-store.js';
import type { MetaSchema } from '../migrations/index.js';
import { mergeSettings, REPOSITORY_COLUMNS, toRepository } from './rows.js';
import type { Statements } from './statements.js';

/*
 * Repository rows: creation with owner and settings, settings changes, listing and the
 * repository policy. Each function is one atomic step; callers hold no transaction.
 */

export function createRepository(
  db: Kysely<MetaSchema>, sql: Statements, name: string, init: RepositoryInit | undefined,
): { repository: Repository; created: boolean } {
  return sql.write(() => {
    const settings = mergeSettings(DEFAULT_REPOSITORY_SETTINGS, init?.settings);
    const changes = sql.run(db.insertInto('repositories').values({
      name,
      created_at: Date.now(),
      account_id: init?.accountId ?? DEFAULT_ACCOUNT_ID,
      settings: JSON.stringify(settings),
    }).onConflict((oc) => oc.column('name').doNothing()));
    const row = sql.get(db.selectFrom('repositories').select(REPOSITORY_COLUMNS).where('name', '=', name));
    return { repository: toRepository(row!), created: changes > 0 };
  });
}

export function updateRepository(
  db: Kysely<MetaSchema>, sql: Statements, name: string, patch: Partial<RepositorySettings>,
): Repository {
  return sql.write(() => {
    const row = sql.get(db.selectFrom('repositories').select(REPOSITORY_COLUMNS).where('name', '=', name));
    if (!row) throw notFound(name);
    const current = toRepository(row);
    const settings = mergeSettings(current.settings, patch);
    sql.run(db.updateTable('repositories').set({ settings: JSON.stringify(settings) }).where('name', '=', name));
    return { ...current, settings };
  });
}

export function listRepositoryDetails(db: Kysely<MetaSchema>, sql: Statements, page: PageRequest): Repository[] {
  let q = db.selectFrom('repositories').select(REPOSITORY_COLUMNS)
    .orderBy('name').limit(Math.max(0, Math.floor(page.limit)));
  if (page.last !== undefined) q = q.where('name', '>', page.last);
  return sql.all(q).map(toRepository);
}

export function getRepositoryPolicy(db: Kysely<MetaSchema>, sql: Statements, name: string): string | undefined {
  const row = sql.get(db.selectFrom('repositories').select('policy').where('name', '=', name));
  if (!row) throw notFound(name);
  return row.policy ?? undefined;
}

export function setRepositoryPolicy(db: Kysely<MetaSchema>, sql: Statements, name: string, policy: string | undefined): void {
  const changes = sql.run(db.updateTable('repositories').set({ policy: policy ?? null }).where('name', '=', name));
  if (changes === 0) throw notFound(name);
}

/**
 * Deletes a repository; with `onlyIfEmpty`, refuses while it holds a manifest. ON DELETE CASCADE
 * removes every row in the repository with it.
 */
export function deleteRepository(db: Kysely<MetaSchema>, sql: Statements, name: string, onlyIfEmpty: boolean): boolean {
  const remove = () => sql.run(db.deleteFrom('repositories').where('name', '=', name)) > 0;
  if (!onlyIfEmpty) return remove();
  return sql.write(() => {
    const id = sql.get(db.selectFrom('repositories').select('id').where('name', '=', name))?.id;
    if (id === undefined) return false;
    if (sql.get(db.selectFrom('manifests').select('digest').where('repository_id', '=', id).limit(1))) {
      throw fail('RepositoryNotEmpty', 'repository still contains images', { repository: name });
    }
    return remove();
  });
}

function notFound(name: string) {
  return fail('RepositoryNotFound', 'repository does not exist', { repository: name });
}
