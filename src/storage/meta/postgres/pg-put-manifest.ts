import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type { PutManifestInput } from '../../../core/ports/meta-store.js';
import { annotationsJson, bytesParam } from '../sqlite/rows.js';
import { FOREIGN_KEY_VIOLATION, lockRepository, sqlState, type Db } from './pg-common.js';

/**
 * `putManifest` on PostgreSQL, in one transaction. The repository row is locked FOR NO KEY UPDATE
 * first, so pushes to one repository from any number of nodes run one after another through the
 * checks below — the tag a push moves is read, handed to `beforeTagMove` (tag immutability) and
 * rewritten with no other push in between; "created" is decided once per digest; each push time is
 * later than the last — while pushes to other repositories, blob links and pulls do not wait.
 */
export async function putManifest(db: Db, input: PutManifestInput): Promise<{ created: boolean; previous?: Digest }> {
  try {
    return await db.transaction().execute(async (trx) => {
      const repositoryId = await lockRepository(trx, input.repository, 'no key update');
      return await putLocked(trx, repositoryId, input);
    });
  } catch (e) {
    // A blob link removed by another node between the check and the insert (unlinkBlob and GC
    // re-check references in their deleting statement, so the foreign key is the last word).
    if (sqlState(e) === FOREIGN_KEY_VIOLATION) {
      throw fail('ManifestBlobUnknown', 'manifest references blobs or manifests unknown to the repository', { missing: [] });
    }
    throw e;
  }
}

async function putLocked(trx: Db, repositoryId: number, input: PutManifestInput): Promise<{ created: boolean; previous?: Digest }> {
  const blobs = [...new Set(input.blobs)];
  const children = [...new Set(input.manifests)];
  const linked = blobs.length === 0 ? new Set<string>() : new Set((await trx.selectFrom('repository_blobs').select('digest')
    .where('repository_id', '=', repositoryId).where('digest', 'in', blobs).execute()).map((r) => r.digest));
  const wanted = [...new Set([...children, input.digest])];
  const present = new Set((await trx.selectFrom('manifests').select('digest')
    .where('repository_id', '=', repositoryId).where('digest', 'in', wanted).execute()).map((r) => r.digest));
  const missing = [...blobs.filter((d) => !linked.has(d)), ...children.filter((d) => !present.has(d))];
  if (missing.length > 0) {
    throw fail('ManifestBlobUnknown', 'manifest references blobs or manifests unknown to the repository', { missing });
  }

  const created = !present.has(input.digest);
  if (created) {
    await trx.insertInto('manifests').values({
      repository_id: repositoryId,
      digest: input.digest,
      media_type: input.mediaType,
      size: input.body.byteLength,
      body: bytesParam(input.body),
      artifact_type: input.artifactType ?? null,
      subject: input.subject ?? null,
      annotations: annotationsJson(input.annotations),
      pushed_at: await nextPushTime(trx, repositoryId),
      image_size: input.imageSize,
    }).execute();
    if (blobs.length > 0) {
      await trx.insertInto('manifest_blobs')
        .values(blobs.map((blob) => ({ repository_id: repositoryId, manifest_digest: input.digest, blob_digest: blob }))).execute();
    }
    if (children.length > 0) {
      await trx.insertInto('manifest_children')
        .values(children.map((child) => ({ repository_id: repositoryId, parent_digest: input.digest, child_digest: child }))).execute();
    }
  }

  if (input.tag === undefined) return { created };
  const tag = input.tag;
  const current = (await trx.selectFrom('tags').select('digest')
    .where('repository_id', '=', repositoryId).where('name', '=', tag).executeTakeFirst())?.digest as Digest | undefined;
  if (current === input.digest) return { created };
  if (current === undefined) {
    await trx.insertInto('tags').values({ repository_id: repositoryId, name: tag, digest: input.digest, updated_at: await nextTagTime(trx, repositoryId, input.digest) }).execute();
    return { created };
  }
  input.beforeTagMove?.(tag, current, input.digest);
  await trx.updateTable('tags').set({ digest: input.digest, updated_at: await nextTagTime(trx, repositoryId, input.digest) })
    .where('repository_id', '=', repositoryId).where('name', '=', tag).execute();
  return { created, previous: current };
}

/*
 * ECR lists a repository's images in push order and an image's tags in the order they were
 * applied; each time is made strictly later than the last one it is ordered against (a burst of
 * pushes within one millisecond, or a node whose clock is behind, would otherwise tie or go
 * backwards). The repository lock held by the caller serializes these reads with the inserts.
 */
async function nextPushTime(trx: Db, repositoryId: number): Promise<number> {
  const last = (await trx.selectFrom('manifests').select('pushed_at').where('repository_id', '=', repositoryId)
    .orderBy('pushed_at', 'desc').limit(1).executeTakeFirst())?.pushed_at;
  return Math.max(Date.now(), last === undefined ? 0 : last + 1);
}

async function nextTagTime(trx: Db, repositoryId: number, digest: string): Promise<number> {
  const last = (await trx.selectFrom('tags').select('updated_at').where('repository_id', '=', repositoryId)
    .where('digest', '=', digest).orderBy('updated_at', 'desc').limit(1).executeTakeFirst())?.updated_at;
  return Math.max(Date.now(), last === undefined ? 0 : last + 1);
}
