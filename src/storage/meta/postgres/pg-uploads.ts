import { fail } from '../../../core/errors.js';
import type { UploadSession } from '../../../core/ports/meta-store.js';
import { repoAccount, repoKey, repoName, type RepoKey } from '../../../core/repo-key.js';
import { toUpload } from '../sqlite/rows.js';
import { lockRepository, sqlState, UNIQUE_VIOLATION, type Db } from './pg-common.js';

/*
 * Upload sessions on PostgreSQL. A chunked upload's PATCHes may land on different nodes; the
 * session size is the only shared state, advanced by compare-and-set.
 */

function ofRepository(repository: RepoKey) {
  return (db: Db) => db.selectFrom('repositories').select('id')
    .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository));
}

/** Starts a session; the id's primary key decides between two nodes that picked the same id. */
export async function createUpload(db: Db, session: { id: string; repository: RepoKey }): Promise<UploadSession> {
  const now = Date.now();
  try {
    await db.transaction().execute(async (trx) => {
      const repositoryId = await lockRepository(trx, session.repository, 'key share');
      await trx.insertInto('uploads')
        .values({ id: session.id, repository_id: repositoryId, size: 0, started_at: now, updated_at: now }).execute();
    });
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION) throw fail('UploadInvalid', 'upload session id already in use', { id: session.id });
    throw e;
  }
  return toUpload(session.repository, { id: session.id, size: 0, started_at: now, updated_at: now });
}

export async function getUpload(db: Db, repository: RepoKey, id: string): Promise<UploadSession | undefined> {
  const row = await db.selectFrom('uploads').select(['id', 'size', 'started_at', 'updated_at'])
    .where('id', '=', id).where('repository_id', '=', ofRepository(repository)(db)).executeTakeFirst();
  return row && toUpload(repository, row);
}

/**
 * Compare-and-set in ONE statement: `UPDATE … WHERE size = expected`. When two nodes race, the
 * second UPDATE waits for the first's row lock and then re-evaluates its WHERE against the
 * committed row (READ COMMITTED's re-check), finds the size moved and updates nothing — so exactly
 * one PATCH wins. Only when nothing matched does a second read tell "gone" from "moved on".
 */
export async function advanceUpload(db: Db, repository: RepoKey, id: string, expected: number, size: number): Promise<UploadSession> {
  const now = Date.now();
  const row = await db.updateTable('uploads').set({ size, updated_at: now })
    .where('id', '=', id).where('repository_id', '=', ofRepository(repository)(db)).where('size', '=', expected)
    .returning(['id', 'size', 'started_at', 'updated_at']).executeTakeFirst();
  if (row) return toUpload(repository, row);
  const current = await getUpload(db, repository, id);
  if (!current) throw fail('UploadNotFound', 'upload session unknown', { id });
  throw fail('UploadInvalid', 'upload moved on concurrently', { id, expected, actual: current.size });
}

export async function deleteUpload(db: Db, repository: RepoKey, id: string): Promise<boolean> {
  const result = await db.deleteFrom('uploads').where('id', '=', id)
    .where('repository_id', '=', ofRepository(repository)(db)).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function listStaleUploads(db: Db, before: Date): Promise<UploadSession[]> {
  const rows = await db.selectFrom('uploads as u').innerJoin('repositories as r', 'r.id', 'u.repository_id')
    .select(['u.id', 'u.size', 'u.started_at', 'u.updated_at', 'r.account_id', 'r.name'])
    .where('u.updated_at', '<', before.getTime()).orderBy('u.updated_at').orderBy('u.id').execute();
  return rows.map((row) => toUpload(repoKey(row.account_id, row.name), row));
}
