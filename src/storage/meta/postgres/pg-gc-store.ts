import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { GcStore } from '../../../core/ports/gc-store.js';
import type { LifecycleSchema, MetaSchema } from '../migrations/index.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { fenceUnlinked } from './pg-blob-fence.js';

/** Opens the GC store on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresGcStore(opts: { url: string; poolSize: number }): Promise<PgGcStore> {
  return new PgGcStore(await leasePostgres(opts));
}

/** Fence, unfence and delete in chunks: short transactions, few bound parameters. */
const CHUNK = 500;
/** SQLSTATE foreign_key_violation: a manifest referencing the link committed after the delete's snapshot. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * {@link GcStore} on PostgreSQL. Each batch is one short transaction, so a push waits at most for
 * one batch. Two things replace SQLite's single writer:
 *
 * - deleting unreferenced links: the NOT EXISTS check reads the statement's snapshot, and a
 *   manifest committed after it is caught by the `manifest_blobs → repository_blobs` foreign key
 *   (the delete fails instead of orphaning the reference); the batch then runs again on a fresh
 *   snapshot, which sees the reference and keeps the link.
 * - fencing: the metadata store's `linkBlob` and this fence take the same per-digest advisory
 *   locks (pg-blob-fence.ts), so a push's link and a GC's fence of one digest never interleave.
 */
export class PgGcStore implements GcStore {
  readonly #db: Kysely<LifecycleSchema>;

  /** Use {@link openPostgresGcStore}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    this.#db = handle.db as unknown as Kysely<LifecycleSchema>;
  }

  #unreferenced(before: Date) {
    return this.#db.selectFrom('repository_blobs as b').where('b.created_at', '<', before.getTime())
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('manifest_blobs as mb').select('mb.blob_digest')
        .whereRef('mb.repository_id', '=', 'b.repository_id').whereRef('mb.blob_digest', '=', 'b.digest'))));
  }

  async deleteUnreferencedLinks(before: Date, limit: number, signal: AbortSignal): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        const r = await this.#db.deleteFrom('repository_blobs')
          .where(sql<SqlBool>`(repository_id, digest) in (${this.#unreferenced(before).select(['b.repository_id', 'b.digest']).limit(limit)})`)
          .executeTakeFirst();
        return Number(r.numDeletedRows);
      } catch (e) {
        if ((e as { code?: unknown }).code !== FOREIGN_KEY_VIOLATION || attempt >= 5) throw e;
      }
    }
  }

  async countUnreferencedLinks(before: Date, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const r = await this.#unreferenced(before).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async liveDigests(before: Date, signal: AbortSignal): Promise<Set<Digest>> {
    signal.throwIfAborted();
    const rows = await this.#db.selectFrom('repository_blobs as b').select('b.digest').distinct()
      .where(({ or, eb, exists, selectFrom }) => or([
        eb('b.created_at', '>=', before.getTime()),
        exists(selectFrom('manifest_blobs as mb').select('mb.blob_digest')
          .whereRef('mb.repository_id', '=', 'b.repository_id').whereRef('mb.blob_digest', '=', 'b.digest')),
      ])).execute();
    return new Set(rows.map((r) => r.digest as Digest));
  }

  async fence(digests: Digest[], at: Date, signal: AbortSignal): Promise<Digest[]> {
    const out: Digest[] = [];
    for (let i = 0; i < digests.length; i += CHUNK) {
      signal.throwIfAborted();
      const chunk = [...new Set(digests.slice(i, i + CHUNK))];
      // Locks, link check and fence in one transaction (see pg-blob-fence.ts).
      out.push(...await fenceUnlinked(this.#db as unknown as Kysely<MetaSchema>, chunk, at));
    }
    return out;
  }

  async unfence(digests: Digest[], signal: AbortSignal): Promise<void> {
    for (let i = 0; i < digests.length; i += CHUNK) {
      signal.throwIfAborted();
      await this.#db.deleteFrom('gc_blob_fence').where('digest', 'in', digests.slice(i, i + CHUNK)).execute();
    }
  }

  async fenced(signal: AbortSignal): Promise<Digest[]> {
    signal.throwIfAborted();
    return (await this.#db.selectFrom('gc_blob_fence').select('digest').execute()).map((r) => r.digest as Digest);
  }

  /** Releases this store's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
