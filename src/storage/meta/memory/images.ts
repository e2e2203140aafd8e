import type { Digest } from '../../../core/digest.js';
import type { ImageDetail, ImageId } from '../../../core/ports/meta-store.js';
import { compareBytes, type RepoState, type StoredManifest } from './state.js';
import { decodeIdCursor, decodePushCursor, encodeIdCursor, encodePushCursor, limitOf } from '../cursors.js';

/*
 * The ECR image views over one repository's state, with the same order, filters and cursor
 * semantics as the SQL stores (cursors themselves are opaque and store-specific).
 */

export type TagFilter = 'TAGGED' | 'UNTAGGED' | 'ANY' | undefined;

/** Pulls closer together than this to the recorded time are not recorded, as in the SQL stores. */
const PULL_RECORD_INTERVAL_MS = 60_000;

export function listImageIds(repo: RepoState, query: { filter?: TagFilter; after?: string; limit: number }): { ids: ImageId[]; next?: string } {
  const byDigest = tagsByDigest(repo, true);
  const all: ImageId[] = [];
  for (const digest of [...repo.manifests.keys()].sort(compareBytes)) {
    const tags = byDigest.get(digest) ?? [];
    if (tags.length === 0 && query.filter !== 'TAGGED') all.push({ digest });
    if (query.filter !== 'UNTAGGED') for (const tag of tags) all.push({ digest, tag });
  }
  const after = query.after === undefined ? undefined : decodeIdCursor(query.after);
  const rest = after === undefined ? all : all.filter((id) => {
    const byDigestOrder = compareBytes(id.digest, after[0]);
    return byDigestOrder > 0 || (byDigestOrder === 0 && compareBytes(id.tag ?? '', after[1]) > 0);
  });
  const ids = rest.slice(0, limitOf(query.limit));
  const last = ids.at(-1);
  return rest.length > ids.length && last ? { ids, next: encodeIdCursor(last) } : { ids };
}

export function describeImages(
  repo: RepoState, query: { digests?: Digest[]; filter?: TagFilter; after?: string; limit: number },
): { images: ImageDetail[]; next?: string } {
  const byDigest = tagsByDigest(repo);
  const detail = (m: StoredManifest) => toDetail(m, byDigest.get(m.record.digest) ?? []);
  const keep = (d: ImageDetail) =>
    query.filter === 'TAGGED' ? d.tags.length > 0 : query.filter === 'UNTAGGED' ? d.tags.length === 0 : true;

  if (query.digests !== undefined) {
    const images: ImageDetail[] = [];
    for (const digest of new Set(query.digests)) {
      const m = repo.manifests.get(digest);
      const d = m && detail(m);
      if (d && keep(d)) images.push(d);
    }
    return { images };
  }

  // Push order: by push time, then digest — the same order and cursor as the SQL stores.
  const after = query.after === undefined ? undefined : decodePushCursor(query.after);
  const rest = [...repo.manifests.values()]
    .sort((a, b) => a.record.pushedAt.getTime() - b.record.pushedAt.getTime() || compareBytes(a.record.digest, b.record.digest))
    .filter((m) => {
      if (after === undefined) return true;
      const t = m.record.pushedAt.getTime();
      return t > after[0] || (t === after[0] && compareBytes(m.record.digest, after[1]) > 0);
    })
    .map(detail)
    .filter(keep);
  const images = rest.slice(0, limitOf(query.limit));
  const last = images.at(-1);
  return rest.length > images.length && last ? { images, next: encodePushCursor(last.pushedAt.getTime(), last.digest) } : { images };
}

/** Records a pull unless the recorded one is less than a minute older than `at` (or newer). */
export function recordPull(m: StoredManifest | undefined, at: Date): void {
  if (!m) return;
  if (m.lastPulledAt !== undefined && m.lastPulledAt > at.getTime() - PULL_RECORD_INTERVAL_MS) return;
  m.lastPulledAt = at.getTime();
}

function toDetail(m: StoredManifest, tags: string[]): ImageDetail {
  const d: ImageDetail = {
    digest: m.record.digest,
    tags: [...tags],
    mediaType: m.record.mediaType,
    manifestSize: m.record.size,
    imageSize: m.imageSize,
    pushedAt: new Date(m.record.pushedAt.getTime()),
  };
  if (m.record.artifactType !== undefined) d.artifactType = m.record.artifactType;
  if (m.lastPulledAt !== undefined) d.lastPulledAt = new Date(m.lastPulledAt);
  return d;
}

/** Tags of each tagged manifest; in the order they were applied (the tags Map's insertion order) unless `sorted`. */
function tagsByDigest(repo: RepoState, sorted = false): Map<Digest, string[]> {
  const out = new Map<Digest, string[]>();
  for (const [tag, digest] of repo.tags) {
    const list = out.get(digest);
    if (list) list.push(tag);
    else out.set(digest, [tag]);
  }
  if (sorted) for (const list of out.values()) list.sort(compareBytes);
  return out;
}
