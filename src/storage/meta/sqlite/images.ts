import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { ImageDetail, ImageId } from '../../../core/ports/meta-store.js';
import type { MetaSchema } from '../migrations/index.js';
import type { Statements } from './statements.js';
import { decodeIdCursor, decodePushCursor, encodeIdCursor, encodePushCursor, limitOf } from '../cursors.js';

/*
 * The ECR image views (ListImages, DescribeImages) and pull times. An image is a manifest; its
 * image ids are its (digest, tag) pairs, or one tagless id while it has no tag.
 */

export type TagFilter = 'TAGGED' | 'UNTAGGED' | 'ANY' | undefined;

/** Pulls closer together than this to the recorded time are not written (pull hot path). */
export const PULL_RECORD_INTERVAL_MS = 60_000;

/**
 * One page of image ids ordered by digest, then tag with the tagless id first. A LEFT JOIN yields
 * exactly that: one row per tag, or one row with a null tag for an untagged manifest.
 */
export function listImageIds(
  db: Kysely<MetaSchema>, sql: Statements, repositoryId: number,
  query: { filter?: TagFilter; after?: string; limit: number },
): { ids: ImageId[]; next?: string } {
  const limit = limitOf(query.limit);
  let q = db.selectFrom('manifests as m')
    .leftJoin('tags as t', (j) => j.onRef('t.repository_id', '=', 'm.repository_id').onRef('t.digest', '=', 'm.digest'))
    .select(['m.digest', 't.name as tag'])
    .where('m.repository_id', '=', repositoryId)
    // coalesce, not the bare column: SQLite sorts NULL first, PostgreSQL last.
    .orderBy('m.digest').orderBy((eb) => eb.fn.coalesce('t.name', eb.val('')))
    .limit(limit + 1);
  if (query.filter === 'TAGGED') q = q.where('t.name', 'is not', null);
  if (query.filter === 'UNTAGGED') q = q.where('t.name', 'is', null);
  if (query.after !== undefined) {
    const [digest, tag] = decodeIdCursor(query.after);
    // `>=` on the digest alone lets the primary key seek; the OR then drops the entries up to the cursor.
    q = q.where('m.digest', '>=', digest)
      .where((eb) => eb.or([eb('m.digest', '>', digest), eb(eb.fn.coalesce('t.name', eb.val('')), '>', tag)]));
  }
  const rows = sql.all(q);
  const ids = rows.slice(0, limit).map((r): ImageId =>
    r.tag === null ? { digest: r.digest as Digest } : { digest: r.digest as Digest, tag: r.tag });
  const last = ids.at(-1);
  return rows.length > limit && last ? { ids, next: encodeIdCursor(last) } : { ids };
}

/**
 * Image details: of exactly `digests` when given (unknown ones and those `filter` rejects
 * omitted, duplicates once, in the order given, no paging), else one page in push order (push time,
 * then digest), as ECR lists them. Tags come in the order they were applied.
 */
export function describeImages(
  db: Kysely<MetaSchema>, sql: Statements, repositoryId: number,
  query: { digests?: Digest[]; filter?: TagFilter; after?: string; limit: number },
): { images: ImageDetail[]; next?: string } {
  const base = db.selectFrom('manifests as m')
    .select(['m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.image_size', 'm.pushed_at', 'm.last_pulled_at'])
    .where('m.repository_id', '=', repositoryId);

  if (query.digests !== undefined) {
    const images: ImageDetail[] = [];
    for (const digest of new Set(query.digests)) {
      const row = sql.get(base.where('m.digest', '=', digest));
      if (!row) continue;
      const image = toDetail(row, tagsOf(db, sql, repositoryId, digest));
      if (keep(image, query.filter)) images.push(image);
    }
    return { images };
  }

  const limit = limitOf(query.limit);
  let q = base.orderBy('m.pushed_at').orderBy('m.digest').limit(limit + 1);
  if (query.after !== undefined) {
    const [at, digest] = decodePushCursor(query.after);
    // `>=` on the time alone lets manifests_by_pushed_at seek; the OR then drops the entries up to the cursor.
    q = q.where('m.pushed_at', '>=', at).where((eb) => eb.or([eb('m.pushed_at', '>', at), eb('m.digest', '>', digest)]));
  }
  if (query.filter === 'TAGGED' || query.filter === 'UNTAGGED') {
    const tagged = query.filter === 'TAGGED';
    q = q.where((eb) => {
      const hasTag = eb.exists(eb.selectFrom('tags as t').select('t.name')
        .whereRef('t.repository_id', '=', 'm.repository_id').whereRef('t.digest', '=', 'm.digest'));
      return tagged ? hasTag : eb.not(hasTag);
    });
  }
  const rows = sql.all(q);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  if (!last) return { images: [] };
  // One indexed lookup of tags_by_digest per image: push order does not keep a page's digests in a range.
  const images = page.map((r) => toDetail(r, tagsOf(db, sql, repositoryId, r.digest)));
  return rows.length > limit ? { images, next: encodePushCursor(last.pushed_at, last.digest) } : { images };
}

/**
 * Sets the manifest's last pull time to `at` unless the stored one is less than
 * {@link PULL_RECORD_INTERVAL_MS} older (or newer). `current` is the stored value as read by a
 * prepared lookup, so a coalesced pull costs one indexed read and no write lock.
 */
export function recordPull(
  db: Kysely<MetaSchema>, sql: Statements, current: { repository_id: number; last_pulled_at: number | null },
  digest: Digest, at: Date,
): void {
  const cutoff = at.getTime() - PULL_RECORD_INTERVAL_MS;
  if (current.last_pulled_at !== null && current.last_pulled_at > cutoff) return;
  // The condition is repeated so a concurrent writer's newer time is never overwritten.
  sql.run(db.updateTable('manifests').set({ last_pulled_at: at.getTime() })
    .where('repository_id', '=', current.repository_id).where('digest', '=', digest)
    .where((eb) => eb.or([eb('last_pulled_at', 'is', null), eb('last_pulled_at', '<=', cutoff)])));
}

interface DetailRow {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  image_size: number;
  pushed_at: number;
  last_pulled_at: number | null;
}

function toDetail(row: DetailRow, tags: string[] = []): ImageDetail {
  const d: ImageDetail = {
    digest: row.digest as Digest,
    tags,
    mediaType: row.media_type,
    manifestSize: row.size,
    imageSize: row.image_size,
    pushedAt: new Date(row.pushed_at),
  };
  if (row.artifact_type !== null) d.artifactType = row.artifact_type;
  if (row.last_pulled_at !== null) d.lastPulledAt = new Date(row.last_pulled_at);
  return d;
}

function keep(image: ImageDetail, filter: TagFilter): boolean {
  if (filter === 'TAGGED') return image.tags.length > 0;
  if (filter === 'UNTAGGED') return image.tags.length === 0;
  return true;
}

/** Tag names of one manifest in the order they were applied (put-manifest.ts keeps `updated_at` distinct per manifest). */
function tagsOf(db: Kysely<MetaSchema>, sql: Statements, repositoryId: number, digest: string): string[] {
  return sql.all(db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('digest', '=', digest)
    .orderBy('updated_at').orderBy('name')).map((r) => r.name);
}
