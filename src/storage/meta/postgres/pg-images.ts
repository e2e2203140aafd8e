import type { Digest } from '../../../core/digest.js';
import type { ImageDetail, ImageId } from '../../../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../../../core/repo-key.js';
import { decodeIdCursor, decodePushCursor, encodeIdCursor, encodePushCursor, limitOf } from '../cursors.js';
import { PULL_RECORD_INTERVAL_MS, type TagFilter } from '../sqlite/images.js';
import { type Db } from './pg-common.js';

/*
 * The ECR image views (ListImages, DescribeImages) and pull times on PostgreSQL. Same orders and
 * cursors as the SQLite store (storage/meta/cursors.ts); the callers run the views in one
 * REPEATABLE READ transaction, so a page and its tags come from one snapshot.
 */

/** One page of image ids ordered by digest, then tag with the tagless id first (see sqlite/images.ts). */
export async function listImageIds(
  db: Db, repositoryId: number, query: { filter?: TagFilter; after?: string; limit: number },
): Promise<{ ids: ImageId[]; next?: string }> {
  const limit = limitOf(query.limit);
  let q = db.selectFrom('manifests as m')
    .leftJoin('tags as t', (j) => j.onRef('t.repository_id', '=', 'm.repository_id').onRef('t.digest', '=', 'm.digest'))
    .select(['m.digest', 't.name as tag'])
    .where('m.repository_id', '=', repositoryId)
    // coalesce, not the bare column: PostgreSQL sorts NULL last; the tagless id comes first.
    .orderBy('m.digest').orderBy((eb) => eb.fn.coalesce('t.name', eb.val('')))
    .limit(limit + 1);
  if (query.filter === 'TAGGED') q = q.where('t.name', 'is not', null);
  if (query.filter === 'UNTAGGED') q = q.where('t.name', 'is', null);
  if (query.after !== undefined) {
    const [digest, tag] = decodeIdCursor(query.after);
    q = q.where('m.digest', '>=', digest)
      .where((eb) => eb.or([eb('m.digest', '>', digest), eb(eb.fn.coalesce('t.name', eb.val('')), '>', tag)]));
  }
  const rows = await q.execute();
  const ids = rows.slice(0, limit).map((r): ImageId =>
    r.tag === null ? { digest: r.digest as Digest } : { digest: r.digest as Digest, tag: r.tag });
  const last = ids.at(-1);
  return rows.length > limit && last ? { ids, next: encodeIdCursor(last) } : { ids };
}

/**
 * Image details of exactly `digests` (unknown ones and those `filter` rejects omitted, duplicates
 * once, in the order given), else one page in push order. Tags of the whole page are read in one
 * query (a round trip per image would dominate on a network database).
 */
export async function describeImages(
  db: Db, repositoryId: number, query: { digests?: Digest[]; filter?: TagFilter; after?: string; limit: number },
): Promise<{ images: ImageDetail[]; next?: string }> {
  const base = db.selectFrom('manifests as m')
    .select(['m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.image_size', 'm.pushed_at', 'm.last_pulled_at'])
    .where('m.repository_id', '=', repositoryId);

  if (query.digests !== undefined) {
    const wanted = [...new Set(query.digests)];
    if (wanted.length === 0) return { images: [] };
    const rows = new Map((await base.where('m.digest', 'in', wanted).execute()).map((r) => [r.digest, r]));
    const tags = await tagsOf(db, repositoryId, [...rows.keys()]);
    const images = wanted.flatMap((d) => {
      const row = rows.get(d);
      return row ? [toDetail(row, tags.get(d))] : [];
    }).filter((image) => keep(image, query.filter));
    return { images };
  }

  const limit = limitOf(query.limit);
  let q = base.orderBy('m.pushed_at').orderBy('m.digest').limit(limit + 1);
  if (query.after !== undefined) {
    const [at, digest] = decodePushCursor(query.after);
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
  const rows = await q.execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  if (!last) return { images: [] };
  const tags = await tagsOf(db, repositoryId, page.map((r) => r.digest));
  const images = page.map((r) => toDetail(r, tags.get(r.digest)));
  return rows.length > limit ? { images, next: encodePushCursor(last.pushed_at, last.digest) } : { images };
}

/**
 * Sets the manifest's last pull time to `at` unless the stored one is less than
 * {@link PULL_RECORD_INTERVAL_MS} older (or newer): one conditional UPDATE, one round trip, which
 * matches no row (and writes nothing) for a coalesced pull. The condition also keeps another
 * node's newer time from being overwritten.
 */
export async function recordPull(db: Db, repository: RepoKey, digest: Digest, at: Date): Promise<void> {
  const cutoff = at.getTime() - PULL_RECORD_INTERVAL_MS;
  await db.updateTable('manifests').set({ last_pulled_at: at.getTime() })
    .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('id')
      .where('account_id', '=', repoAccount(repository)).where('name', '=', repoName(repository)))
    .where('digest', '=', digest)
    .where((eb) => eb.or([eb('last_pulled_at', 'is', null), eb('last_pulled_at', '<=', cutoff)]))
    .execute();
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

/** Tag names of each of `digests`, in the order they were applied (pg-put-manifest.ts keeps `updated_at` distinct per manifest). */
async function tagsOf(db: Db, repositoryId: number, digests: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (digests.length === 0) return out;
  const rows = await db.selectFrom('tags').select(['digest', 'name']).where('repository_id', '=', repositoryId)
    .where('digest', 'in', digests).orderBy('digest').orderBy('updated_at').orderBy('name').execute();
  for (const r of rows) {
    const list = out.get(r.digest);
    if (list) list.push(r.name);
    else out.set(r.digest, [r.name]);
  }
  return out;
}
