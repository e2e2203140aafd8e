import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type { ManifestRecord, PageRequest, Referrer } from '../../../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import { limitOf } from '../cursors.js';
import { toManifest, toReferrer } from '../sqlite/rows.js';
import { FOREIGN_KEY_VIOLATION, sqlState, type Db } from './pg-common.js';

/* Manifest and tag reads and deletes on PostgreSQL (pg-put-manifest.ts writes them). */

/** One statement, one round trip (the pull hot path): the manifest joined to its repository. */
export async function getManifest(db: Db, repository: RepoKey, digest: Digest): Promise<ManifestRecord | undefined> {
  const row = await db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .select(['m.digest', 'm.media_type', 'm.size', 'm.body', 'm.artifact_type', 'm.subject', 'm.annotations', 'm.pushed_at'])
    .where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository))
    .where('m.digest', '=', digest).executeTakeFirst();
  return row && toManifest(repository, row);
}

/** One statement, one round trip. */
export async function resolveTag(db: Db, repository: RepoKey, tag: string): Promise<Digest | undefined> {
  const row = await db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
    .select('t.digest').where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository))
    .where('t.name', '=', tag).executeTakeFirst();
  return row?.digest as Digest | undefined;
}

/**
 * Deletes a manifest with its tags. Holds the repository FOR NO KEY UPDATE, like a push, so a push
 * on another node cannot tag the manifest or list it as an index child between the checks and the
 * delete (the foreign keys would refuse it anyway; the lock makes the answer the domain one).
 */
export async function deleteManifest(db: Db, repository: RepoKey, digest: Digest): Promise<{ tags: string[] } | undefined> {
  try {
    return await db.transaction().execute(async (trx) => {
      const id = (await trx.selectFrom('repositories').select('id')
        .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository)).forNoKeyUpdate().executeTakeFirst())?.id;
      if (id === undefined) return undefined;
      if (!await trx.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst()) {
        return undefined;
      }
      const parent = await trx.selectFrom('manifest_children').select('parent_digest')
        .where('repository_id', '=', id).where('child_digest', '=', digest).limit(1).executeTakeFirst();
      if (parent) throw fail('ManifestReferenced', 'manifest is listed by an index', { digest, index: parent.parent_digest });
      const tags = (await trx.deleteFrom('tags').where('repository_id', '=', id).where('digest', '=', digest)
        .returning('name').execute()).map((t) => t.name).sort(byteOrder);
      // manifest_blobs and manifest_children rows of this manifest go with it (ON DELETE CASCADE).
      await trx.deleteFrom('manifests').where('repository_id', '=', id).where('digest', '=', digest).execute();
      return { tags };
    });
  } catch (e) {
    if (sqlState(e) === FOREIGN_KEY_VIOLATION) throw fail('ManifestReferenced', 'manifest is listed by an index', { digest });
    throw e;
  }
}

export async function deleteTag(db: Db, repository: RepoKey, tag: string): Promise<boolean> {
  const result = await db.deleteFrom('tags').where('name', '=', tag)
    .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('id')
      .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository))).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function listTags(db: Db, repository: RepoKey, page: PageRequest): Promise<string[]> {
  let q = db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
    .select('t.name').where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository))
    .orderBy('t.name').limit(limitOf(page.limit));
  if (page.last !== undefined) q = q.where('t.name', '>', page.last);
  return (await q.execute()).map((r) => r.name);
}

export async function listReferrers(db: Db, repository: RepoKey, subject: Digest, artifactType: string | undefined): Promise<Referrer[]> {
  let q = db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .select(['m.media_type', 'm.digest', 'm.size', 'm.artifact_type', 'm.annotations'])
    .where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository))
    .where('m.subject', '=', subject).orderBy('m.digest');
  if (artifactType !== undefined) q = q.where('m.artifact_type', '=', artifactType);
  return (await q.execute()).map(toReferrer);
}

/** Byte order of UTF-8, as the "C" collation sorts (tag names are ASCII, where it equals code-unit order). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
