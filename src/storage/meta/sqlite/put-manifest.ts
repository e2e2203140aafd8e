import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import { fail } from '../../../core/errors.js';
import type { PutManifestInput } from '../../../core/ports/meta-store.js';
import type { MetaSchema } from '../migrations/index.js';
import { annotationsJson, bytesParam } from './rows.js';
import type { Statements } from './statements.js';

/**
 * The body of `putManifest`; the caller runs it inside one write transaction, so a throw from the
 * checks or from `beforeTagMove` rolls back everything written here.
 */
export function putManifest(
  db: Kysely<MetaSchema>,
  sql: Statements,
  repositoryId: number,
  input: PutManifestInput,
): { created: boolean; previous?: Digest } {
  const blobs = [...new Set(input.blobs)];
  const children = [...new Set(input.manifests)];
  // One indexed lookup per reference rather than an IN list, so the prepared-statement cache
  // holds one statement, not one per list length.
  const missing = [
    ...blobs.filter((d) => !sql.get(db.selectFrom('repository_blobs').select('digest')
      .where('repository_id', '=', repositoryId).where('digest', '=', d))),
    ...children.filter((d) => !manifestExists(db, sql, repositoryId, d)),
  ];
  if (missing.length > 0) {
    throw fail('ManifestBlobUnknown', 'manifest references blobs or manifests unknown to the repository', { missing });
  }

  const created = !manifestExists(db, sql, repositoryId, input.digest);
  if (created) {
    sql.run(db.insertInto('manifests').values({
      repository_id: repositoryId,
      digest: input.digest,
      media_type: input.mediaType,
      size: input.body.byteLength,
      body: bytesParam(input.body),
      artifact_type: input.artifactType ?? null,
      subject: input.subject ?? null,
      annotations: annotationsJson(input.annotations),
      pushed_at: nextPushTime(db, sql, repositoryId),
      image_size: input.imageSize,
    }));
    for (const blob of blobs) {
      sql.run(db.insertInto('manifest_blobs')
        .values({ repository_id: repositoryId, manifest_digest: input.digest, blob_digest: blob }));
    }
    for (const child of children) {
      sql.run(db.insertInto('manifest_children')
        .values({ repository_id: repositoryId, parent_digest: input.digest, child_digest: child }));
    }
  }

  if (input.tag === undefined) return { created };
  const tag = input.tag;
  const current = sql.get(db.selectFrom('tags').select('digest')
    .where('repository_id', '=', repositoryId).where('name', '=', tag))?.digest as Digest | undefined;
  if (current === input.digest) return { created };
  if (current === undefined) {
    sql.run(db.insertInto('tags').values({ repository_id: repositoryId, name: tag, digest: input.digest, updated_at: nextTagTime(db, sql, repositoryId, input.digest) }));
    return { created };
  }
  input.beforeTagMove?.(tag, current, input.digest);
  sql.run(db.updateTable('tags').set({ digest: input.digest, updated_at: nextTagTime(db, sql, repositoryId, input.digest) })
    .where('repository_id', '=', repositoryId).where('name', '=', tag));
  return { created, previous: current };
}

function manifestExists(db: Kysely<MetaSchema>, sql: Statements, repositoryId: number, digest: string): boolean {
  return sql.get(db.selectFrom('manifests').select('digest')
    .where('repository_id', '=', repositoryId).where('digest', '=', digest)) !== undefined;
}

/*
 * ECR lists a repository's images in push order and an image's tags in the order they were applied.
 * Both orders come from these times, so each is made strictly later than the last one it is ordered
 * against (a burst of pushes within one millisecond would otherwise tie). Runs inside the write
 * transaction, so concurrent pushes are serialized; each lookup is one index seek
 * (manifests_by_pushed_at, tags_by_digest).
 */
function nextPushTime(db: Kysely<MetaSchema>, sql: Statements, repositoryId: number): number {
  const last = sql.get(db.selectFrom('manifests').select('pushed_at').where('repository_id', '=', repositoryId)
    .orderBy('pushed_at', 'desc').limit(1))?.pushed_at;
  return Math.max(Date.now(), last === undefined ? 0 : last + 1);
}

function nextTagTime(db: Kysely<MetaSchema>, sql: Statements, repositoryId: number, digest: string): number {
  const last = sql.get(db.selectFrom('tags').select('updated_at').where('repository_id', '=', repositoryId)
    .where('digest', '=', digest).orderBy('updated_at', 'desc').limit(1))?.updated_at;
  return Math.max(Date.now(), last === undefined ? 0 : last + 1);
}
