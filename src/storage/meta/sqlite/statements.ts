import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable } from 'kysely';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** Distinct SQL texts kept prepared; queries never inline values, so the set stays small. */
const MAX_CACHED = 256;
const PARAM_PREFIX = '\u0000berth-param:';

/**
 * Runs kysely-built queries synchronously on one better-sqlite3 connection, keeping each distinct
 * SQL text prepared. Synchronous execution is the point: a transaction opened with {@link write}
 * finishes before the event loop turns, so no other call can observe or interleave with it.
 */
export class Statements {
  readonly #cache = new Map<string, Statement>();
  readonly #tx: BetterSqlite3.Transaction<(work: () => unknown) => unknown>;

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.#tx = sqlite.transaction((work: () => unknown) => work());
  }

  /** The rows of `query`. */
  all<O>(query: Compilable<O>): O[] {
    const c = query.compile();
    return this.#prepare(c.sql).all(...c.parameters) as O[];
  }

  /** The first row of `query`, or `undefined`. */
  get<O>(query: Compilable<O>): O | undefined {
    const c = query.compile();
    return this.#prepare(c.sql).get(...c.parameters) as O | undefined;
  }

  /** Executes a write; resolves with the number of rows changed. */
  run(query: Compilable<unknown>): number {
    const c = query.compile();
    return this.#prepare(c.sql).run(...c.parameters).changes;
  }

  /**
   * Runs `work` in a `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so two
   * processes never deadlock upgrading a read lock). Rolls back and rethrows if `work` throws.
   */
  write<T>(work: () => T): T {
    return this.#tx.immediate(work) as T;
  }

  /**
   * Runs `work`, which only reads, in one deferred transaction, so its queries see one snapshot
   * even while another process writes (WAL readers never block or take the write lock).
   */
  read<T>(work: () => T): T {
    return this.#tx.deferred(work) as T;
  }

  /**
   * Compiles and prepares a query once, for hot paths. `build` receives `param(name)`, whose return
   * value stands in for a bound value; the result looks up the first row for the given arguments.
   * Throws at construction if the compiled query has any parameter that is not a named placeholder.
   */
  template<O, K extends string>(build: (param: (name: K) => string) => Compilable<O>): (args: Record<K, unknown>) => O | undefined {
    const c = build((name) => PARAM_PREFIX + name).compile();
    const names = c.parameters.map((p) => {
      if (typeof p !== 'string' || !p.startsWith(PARAM_PREFIX)) throw new Error(`template parameter is not a placeholder: ${c.sql}`);
      return p.slice(PARAM_PREFIX.length) as K;
    });
    const stmt = this.sqlite.prepare<unknown[], unknown>(c.sql);
    return (args) => stmt.get(...names.map((n) => args[n])) as O | undefined;
  }

  #prepare(sql: string): Statement {
    let stmt = this.#cache.get(sql);
    if (stmt === undefined) {
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      stmt = this.sqlite.prepare<unknown[], unknown>(sql);
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }
}
