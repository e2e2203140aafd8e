import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import { lockDigestForLink } from './pg-blob-fence.js';
import { FOREIGN_KEY_VIOLATION, lockRepository, sqlState, type Db } from './pg-common.js';

/*
 * Blob links on PostgreSQL: which blobs a repository may serve. Linking races with garbage
 * collection on other nodes; pg-blob-fence.ts explains the lock that makes it safe.
 */

/**
 * Links a blob (idempotent) and optionally ends the upload session that produced it, in one
 * transaction: repository row FOR KEY SHARE (a concurrent delete of the repository waits or wins
 * cleanly), the digest's shared fence lock, THEN the fence check, then the insert.
 */
export async function linkBlob(db: Db, repository: RepoKey, digest: Digest, size: number, endUpload: string | undefined): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const id = await lockRepository(trx, repository, 'key share');
    await lockDigestForLink(trx, digest);
    // A separate statement after the lock: its snapshot includes a fence committed while we waited.
    if (await trx.selectFrom('gc_blob_fence').select('digest').where('digest', '=', digest).executeTakeFirst()) {
      throw fail('Unavailable', 'the blob is being garbage-collected; retry the upload', { digest });
    }
    await trx.insertInto('repository_blobs')
      .values({ repository_id: id, digest, size, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()).execute();
    if (endUpload !== undefined) {
      await trx.deleteFrom('uploads').where('id', '=', endUpload).where('repository_id', '=', id).execute();
    }
  });
}

/** One statement, one round trip (hot: every blob HEAD/GET checks the link). */
export async function getBlobLink(db: Db, repository: RepoKey, digest: Digest): Promise<{ size: number } | undefined> {
  const row = await db.selectFrom('repository_blobs as b').innerJoin('repositories as r', 'r.id', 'b.repository_id')
    .select('b.size').where('r.account_id', '=', repoAccount(repository)).where('r.name', '=', repoName(repository))
    .where('b.digest', '=', digest).executeTakeFirst();
  return row && { size: row.size };
}

/**
 * Unlinks a blob unless a manifest references it. A manifest committed on another node between the
 * check and the delete still cannot lose its blob: manifest_blobs' foreign key makes the delete
 * fail, which is reported as the same `BlobReferenced`.
 */
export async function unlinkBlob(db: Db, repository: RepoKey, digest: Digest): Promise<boolean> {
  try {
    return await db.transaction().execute(async (trx) => {
      const id = (await trx.selectFrom('repositories').select('id')
        .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository)).executeTakeFirst())?.id;
      if (id === undefined) return false;
      const ref = await trx.selectFrom('manifest_blobs').select('manifest_digest')
        .where('repository_id', '=', id).where('blob_digest', '=', digest).limit(1).executeTakeFirst();
      if (ref) throw fail('BlobReferenced', 'blob is referenced by a manifest', { digest, manifest: ref.manifest_digest });
      const result = await trx.deleteFrom('repository_blobs').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  } catch (e) {
    if (sqlState(e) === FOREIGN_KEY_VIOLATION) throw fail('BlobReferenced', 'blob is referenced by a manifest', { digest });
    throw e;
  }
}
