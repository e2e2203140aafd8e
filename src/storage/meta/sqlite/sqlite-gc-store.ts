import { sql as raw, type Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { GcStore } from '../../../core/ports/gc-store.js';
import type { LifecycleSchema } from '../migrations/index.js';
import { openSqlite } from './open.js';
import type { Statements } from './statements.js';

/** Opens the GC store on the SQLite metadata file at `path` (its own connection; migrates first). */
export async function openSqliteGcStore(opts: { path: string }): Promise<SqliteGcStore> {
  const { db, sql } = await openSqlite<LifecycleSchema>(opts.path);
  return new SqliteGcStore(db, sql);
}

/** Fence and unfence in chunks well under SQLite's bound-parameter limit. */
const CHUNK = 500;

/**
 * {@link GcStore} on the SQLite metadata file. Each batch is one short write transaction, so a
 * push waits at most for one batch (milliseconds), never for a whole collection.
 */
export class SqliteGcStore implements GcStore {
  constructor(private readonly db: Kysely<LifecycleSchema>, private readonly sql: Statements) {}

  #unreferenced(before: Date) {
    return this.db.selectFrom('repository_blobs as b').where('b.created_at', '<', before.getTime())
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('manifest_blobs as mb').select('mb.blob_digest')
        .whereRef('mb.repository_id', '=', 'b.repository_id').whereRef('mb.blob_digest', '=', 'b.digest'))));
  }

  async deleteUnreferencedLinks(before: Date, limit: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    // One statement: the NOT EXISTS re-check runs in the same transaction as the delete.
    return this.sql.write(() => this.sql.run(this.db.deleteFrom('repository_blobs')
      .where(raw<number>`rowid`, 'in', this.#unreferenced(before).select(raw<number>`b.rowid`.as('rid')).limit(limit))));
  }

  async countUnreferencedLinks(before: Date, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    return Number(this.sql.get(this.#unreferenced(before).select((eb) => eb.fn.countAll<number>().as('n')))?.n ?? 0);
  }

  async liveDigests(before: Date, signal: AbortSignal): Promise<Set<Digest>> {
    signal.throwIfAborted();
    const rows = this.sql.read(() => this.sql.all(this.db.selectFrom('repository_blobs as b').select('b.digest').distinct()
      .where(({ or, eb, exists, selectFrom }) => or([
        eb('b.created_at', '>=', before.getTime()),
        exists(selectFrom('manifest_blobs as mb').select('mb.blob_digest')
          .whereRef('mb.repository_id', '=', 'b.repository_id').whereRef('mb.blob_digest', '=', 'b.digest')),
      ]))));
    return new Set(rows.map((r) => r.digest as Digest));
  }

  async fence(digests: Digest[], at: Date, signal: AbortSignal): Promise<Digest[]> {
    signal.throwIfAborted();
    const out: Digest[] = [];
    for (let i = 0; i < digests.length; i += CHUNK) {
      const chunk = digests.slice(i, i + CHUNK);
      this.sql.write(() => {
        const linked = new Set(this.sql.all(this.db.selectFrom('repository_blobs').select('digest').distinct().where('digest', 'in', chunk)).map((r) => r.digest));
        const free = chunk.filter((d) => !linked.has(d));
        if (free.length) {
          this.sql.run(this.db.insertInto('gc_blob_fence').values(free.map((digest) => ({ digest, fenced_at: at.getTime() })))
            .onConflict((oc) => oc.column('digest').doNothing()));
        }
        out.push(...free);
      });
    }
    return out;
  }

  async unfence(digests: Digest[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    for (let i = 0; i < digests.length; i += CHUNK) {
      const chunk = digests.slice(i, i + CHUNK);
      this.sql.run(this.db.deleteFrom('gc_blob_fence').where('digest', 'in', chunk));
    }
  }

  async fenced(signal: AbortSignal): Promise<Digest[]> {
    signal.throwIfAborted();
    return this.sql.all(this.db.selectFrom('gc_blob_fence').select('digest')).map((r) => r.digest as Digest);
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}
