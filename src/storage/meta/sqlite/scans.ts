import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import { repoKey, type RepoKey } from '../../../core/repo-key.js';
import type { MetaSchema } from '../migrations/index.js';
import type { Statements } from './statements.js';

/** Rows per page when streaming whole tables, so no read holds the connection for long. */
const PAGE = 500;

/** Every (repository, manifest, blob) reference, paged by key so writers interleave between pages. */
export async function* listBlobReferences(
  db: Kysely<MetaSchema>, sql: Statements, signal: AbortSignal,
): AsyncIterable<{ repository: RepoKey; manifest: Digest; blob: Digest }> {
  let after: [number, string, string] | undefined;
  for (;;) {
    signal.throwIfAborted();
    let q = db.selectFrom('manifest_blobs as mb').innerJoin('repositories as r', 'r.id', 'mb.repository_id')
      .select(['mb.repository_id', 'r.account_id', 'r.name', 'mb.manifest_digest', 'mb.blob_digest'])
      .orderBy('mb.repository_id').orderBy('mb.manifest_digest').orderBy('mb.blob_digest').limit(PAGE);
    if (after) {
      const [a, b, c] = after;
      q = q.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('mb.repository_id', 'mb.manifest_digest', 'mb.blob_digest'), '>', tuple(a, b, c)));
    }
    const rows = sql.all(q);
    for (const r of rows) yield { repository: repoKey(r.account_id, r.name), manifest: r.manifest_digest as Digest, blob: r.blob_digest as Digest };
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) return;
    after = [last.repository_id, last.manifest_digest, last.blob_digest];
  }
}

/** Every distinct linked blob digest with its largest recorded size, in digest order. */
export async function* listLinkedBlobs(
  db: Kysely<MetaSchema>, sql: Statements, signal: AbortSignal,
): AsyncIterable<{ digest: Digest; size: number }> {
  let after: string | undefined;
  for (;;) {
    signal.throwIfAborted();
    let q = db.selectFrom('repository_blobs')
      .select(({ fn }) => ['digest', fn.max<number>('size').as('size')])
      .groupBy('digest').orderBy('digest').limit(PAGE);
    if (after !== undefined) q = q.where('digest', '>', after);
    const rows = sql.all(q);
    for (const r of rows) yield { digest: r.digest as Digest, size: r.size };
    if (rows.length < PAGE) return;
    after = rows.at(-1)?.digest;
  }
}
