import { sql } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { Db } from './pg-common.js';

/*
 * Why a lock, and which one (read with core/ports/gc-store.ts).
 *
 * SQLite has one writer, so `linkBlob`'s "is the digest fenced?" check and the GC's "is the digest
 * linked?" check (each followed by its insert) can never interleave. On PostgreSQL under READ
 * COMMITTED they can: node A's linkBlob reads no fence, node B's GC reads no link (A has not
 * committed), both insert and commit, and the GC deletes bytes a repository now links — a write
 * skew no row lock can prevent, because the row each side would have to lock does not exist yet.
 *
 * So both sides take a transaction-scoped advisory lock on the digest before they read: linkBlob a
 * SHARED one (links of the same digest never wait for each other), the GC's fence an EXCLUSIVE one.
 * Whichever gets the lock first commits before the other reads, and READ COMMITTED gives each
 * later statement a fresh snapshot: if the GC went first, linkBlob's fence check (a statement
 * issued after its lock was granted) sees the fence and refuses; if linkBlob went first, the GC's
 * link check sees the link and does not fence. The check must be a separate statement from the
 * lock: a statement's snapshot is taken when it starts, before any lock it waits for inside.
 *
 * Keys use the two-int4 form of the advisory-lock functions, a key space separate from the
 * one-bigint form (migrations and singleton schedules use that), with a fixed class id; the object
 * id is 31 bits of the digest's hex (a collision only makes two unrelated digests wait in turn).
 * Locks are released at commit or rollback; nothing to clean up after a crash.
 */

/** Class id of the fence locks ("bf" for blob fence). */
const FENCE_LOCK_CLASS = 0x6266;

/** The object id of `digest`'s fence lock: 31 bits of its hex, so it fits a positive int4. */
export function fenceLockId(digest: Digest | string): number {
  const hex = digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 9);
  return Number.parseInt(hex, 16) & 0x7fffffff;
}

/**
 * Takes the shared fence lock of `digest` for the rest of the transaction `trx` (linkBlob: call it
 * before reading `gc_blob_fence`). Waits while a GC holds the exclusive one.
 */
export async function lockDigestForLink(trx: Db, digest: Digest): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(${FENCE_LOCK_CLASS}::int4, ${fenceLockId(digest)}::int4)`.execute(trx);
}

/**
 * Takes the exclusive fence locks of `digests` for the rest of the transaction `trx`. The GC's
 * `fence` must call it BEFORE reading `repository_blobs` and inserting into `gc_blob_fence`, in the
 * same transaction. Ids are locked in ascending order, so two fencing transactions cannot deadlock.
 */
export async function lockDigestsForFence(trx: Db, digests: readonly Digest[]): Promise<void> {
  const ids = [...new Set(digests.map(fenceLockId))].sort((a, b) => a - b);
  if (ids.length === 0) return;
  await sql`select pg_advisory_xact_lock(${FENCE_LOCK_CLASS}::int4, id) from unnest(${ids}::int4[]) with ordinality as t(id, n) order by n`.execute(trx);
}

/**
 * The GC store's `fence` step for one batch on PostgreSQL, race-free against `linkBlob` on any
 * node: in one transaction, takes the exclusive fence locks, reads which of `digests` are linked
 * (a statement after the locks, so it sees every link committed before them), fences the others
 * and resolves with them. `PgGcStore.fence` calls it per batch.
 */
export async function fenceUnlinked(db: Db, digests: readonly Digest[], at: Date): Promise<Digest[]> {
  if (digests.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    await lockDigestsForFence(trx, digests);
    const linked = new Set((await trx.selectFrom('repository_blobs').select('digest').distinct()
      .where('digest', 'in', [...digests]).execute()).map((r) => r.digest));
    const free = [...new Set(digests)].filter((d) => !linked.has(d));
    if (free.length > 0) {
      await trx.insertInto('gc_blob_fence').values(free.map((digest) => ({ digest, fenced_at: at.getTime() })))
        .onConflict((oc) => oc.column('digest').doNothing()).execute();
    }
    return free;
  });
}
