/**
 * Transactions of the PostgreSQL stores.
 *
 * The SQLite stores rely on SQLite's single writer: a `BEGIN IMMEDIATE` transaction that checks a
 * row, then writes, cannot interleave with another such transaction on any process. PostgreSQL at
 * its default READ COMMITTED level gives no such guarantee (two nodes may both find "no user
 * alice" and both insert; or both count one access key and both add a second). Running those
 * check-then-write steps SERIALIZABLE restores exactly the SQLite semantics: PostgreSQL aborts one
 * of two conflicting transactions with a serialization failure, and {@link serializable} runs it
 * again, when it sees the other's committed write and answers as SQLite would (`EntityAlreadyExists`,
 * `LimitExceeded`, …). The retry lives here, not in callers, so every store gets it the same way.
 */
import type { Kysely, Transaction } from 'kysely';

/** SQLSTATEs that mean "run the transaction again": serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);
/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 20;

function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `e` is PostgreSQL's unique_violation (a concurrent insert of the same key won). */
export function isUniqueViolation(e: unknown): boolean {
  return sqlState(e) === UNIQUE_VIOLATION;
}

/**
 * Runs `work` in one SERIALIZABLE transaction, retrying it (with a short random back-off, so two
 * nodes that keep colliding drift apart) while PostgreSQL reports a serialization failure or a
 * deadlock. `work` must be safe to run more than once: only the database is changed in it. Other
 * errors (domain errors thrown by `work` included) roll back and propagate at once.
 */
export async function serializable<DB, T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().setIsolationLevel('serializable').execute(work);
    } catch (e) {
      const state = sqlState(e);
      if (state === undefined || !RETRYABLE.has(state) || attempt >= MAX_ATTEMPTS) throw e;
      await new Promise((done) => setTimeout(done, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }
}
