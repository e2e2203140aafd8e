import { sameStamp, type ChangeStamp, type Statements } from './statements.js';

/** Bound on remembered tags; past it the cache starts over (a GET of a random tag must not grow it). */
const MAX_ENTRIES = 10_000;

/**
 * Tag → digest of the SQLite metadata store, exactly as fresh as a query (issue 12: the tag query
 * was the last SQLite read of a manifest GET).
 *
 * Why it is never stale: every lookup first takes the connection's change stamp
 * ({@link Statements.changeStamp}: SQLite's transaction counter, which changes after any other
 * connection's commit — another worker process on the same file, another node's connection, another
 * store of this process — plus a count of this connection's own writes). When the stamp differs from
 * the one the entries were read under, every entry is dropped before the lookup. An entry is stored
 * under the stamp taken before its query, and the store is synchronous (better-sqlite3), so nothing
 * of this process runs between the two; a commit by another process in between changes the
 * counter, so the next lookup re-queries. A tag moved or deleted by a push through any worker
 * is therefore seen by the next GET in every worker, as the OCI conformance tests require.
 *
 * On a WAL file the stamp is read from the wal-index without a lock (one `pread`, shared by the
 * requests of one event-loop turn as far as shared-reads.ts proves it safe; `data_version` itself
 * takes the WAL read lock, which two workers contend for) and no B-tree descent into
 * `repositories` and `tags`. Only hits are cached: a missing tag is queried every time.
 */
export class TagCache {
  #entries = new Map<string, string>();
  #stamp: ChangeStamp | undefined;

  constructor(private readonly sql: Statements) {}

  /** The digest `tag` names in `repository`, from memory when no commit happened since it was read. */
  resolve(repository: string, tag: string, query: () => string | undefined): string | undefined {
    const stamp = this.sql.changeStamp();
    if (this.#stamp === undefined || !sameStamp(stamp, this.#stamp)) {
      this.#entries.clear();
      this.#stamp = stamp;
    }
    const key = `${repository}\u0000${tag}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const digest = query();
    if (digest !== undefined) {
      if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
      this.#entries.set(key, digest);
    }
    return digest;
  }
}
