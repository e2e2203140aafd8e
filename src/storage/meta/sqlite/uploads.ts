import type { Kysely } from 'kysely';
import { fail } from '../../../core/errors.js';
import type { UploadSession } from '../../../core/ports/meta-store.js';
import { repoAccount, repoKey, repoName, type RepoKey } from '../../../core/repo-key.js';
import type { MetaSchema } from '../migrations/index.js';
import { toUpload } from './rows.js';
import type { Statements } from './statements.js';

/* Upload sessions. Functions that take a repository id run inside the caller's write transaction. */

export function createUpload(
  db: Kysely<MetaSchema>, sql: Statements, repositoryId: number, session: { id: string; repository: RepoKey },
): UploadSession {
  if (sql.get(db.selectFrom('uploads').select('id').where('id', '=', session.id))) {
    throw fail('UploadInvalid', 'upload session id already in use', { id: session.id });
  }
  const now = Date.now();
  sql.run(db.insertInto('uploads')
    .values({ id: session.id, repository_id: repositoryId, size: 0, started_at: now, updated_at: now }));
  return toUpload(session.repository, { id: session.id, size: 0, started_at: now, updated_at: now });
}

export function getUpload(db: Kysely<MetaSchema>, sql: Statements, repository: RepoKey, id: string): UploadSession | undefined {
  const row = uploadRow(db, sql, repository, id);
  return row && toUpload(repository, row);
}

export function advanceUpload(
  db: Kysely<MetaSchema>, sql: Statements, repository: RepoKey, id: string, expected: number, size: number,
): UploadSession {
  return sql.write(() => {
    const row = uploadRow(db, sql, repository, id);
    if (!row) throw fail('UploadNotFound', 'upload session unknown', { id });
    if (row.size !== expected) throw fail('UploadInvalid', 'upload moved on concurrently', { id, expected, actual: row.size });
    const now = Date.now();
    sql.run(db.updateTable('uploads').set({ size, updated_at: now }).where('id', '=', id));
    return toUpload(repository, { ...row, size, updated_at: now });
  });
}

export function deleteUpload(db: Kysely<MetaSchema>, sql: Statements, repository: RepoKey, id: string): boolean {
  return sql.run(db.deleteFrom('uploads').where('id', '=', id)
    .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('repositories.id')
      .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository)))) > 0;
}

export function listStaleUploads(db: Kysely<MetaSchema>, sql: Statements, before: Date): UploadSession[] {
  const rows = sql.all(db.selectFrom('uploads as u').innerJoin('repositories as r', 'r.id', 'u.repository_id')
    .select(['u.id', 'u.size', 'u.started_at', 'u.updated_at', 'r.account_id', 'r.name'])
    .where('u.updated_at', '<', before.getTime()).orderBy('u.updated_at').orderBy('u.id'));
  return rows.map((row) => toUpload(repoKey(row.account_id, row.name), row));
}

function uploadRow(db: Kysely<MetaSchema>, sql: Statements, repository: RepoKey, id: string) {
  return sql.get(db.selectFrom('uploads as u').innerJoin('repositories as r', 'r.id', 'u.repository_id')
    .select(['u.id', 'u.size', 'u.started_at', 'u.updated_at']).where('u.id', '=', id)
    .where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository)));
}
