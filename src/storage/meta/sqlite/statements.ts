import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable, CompiledQuery } from 'kysely';
import { wroteLocally } from './shared-reads.js';
import { WalIndexCounter } from './wal-index-counter.js';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/**
 * What {@link Statements.changeStamp} reads, per connection rather than per `Statements` (the stores
 * of a process share one connection, open.ts): the writes made through it (SQLite's `data_version`
 * is per connection, so two wrappers of one connection must see each other's writes), its
 * `data_version` statement and its wal-index counter.
 */
interface ConnectionState {
  readonly writes: { n: number };
  readonly dataVersion: BetterSqlite3.Statement<unknown[], number>;
  readonly walIndex: WalIndexCounter | undefined;
}
const connections = new WeakMap<BetterSqlite3.Database, ConnectionState>();

function connectionState(sqlite: BetterSqlite3.Database): ConnectionState {
  let state = connections.get(sqlite);
  if (state === undefined) {
    state = { writes: { n: 0 }, dataVersion: sqlite.prepare<unknown[], number>('PRAGMA data_version').pluck(), walIndex: WalIndexCounter.of(sqlite) };
    connections.set(sqlite, state);
    // Opening may have committed (a new file's schema, a migration).
    wroteLocally();
  }
  return state;
}

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
  readonly #writes: { n: number };
  readonly #dataVersion: BetterSqlite3.Statement<unknown[], number>;
  readonly #walIndex: WalIndexCounter | undefined;

  readonly #release: () => void;
  #closed = false;

  /** `release` is what {@link close} does (default: nothing; the caller owns the connection). */
  constructor(private readonly sqlite: BetterSqlite3.Database, release: () => void = () => {}) {
    this.#release = release;
    this.#tx = sqlite.transaction((work: () => unknown) => work());
    const state = connectionState(sqlite);
    this.#writes = state.writes;
    this.#dataVersion = state.dataVersion;
    this.#walIndex = state.walIndex;
  }

  /**
   * A stamp that differs from every earlier one whenever the database may have changed since: a
   * commit by any other connection, in this process or another (SQLite's `PRAGMA data_version`, which
   * also sees other processes' commits to a WAL file), or a write through this connection (counted
   * here: `data_version` leaves out the connection's own commits). Equal stamps mean no commit in
   * between, so a value read after taking a stamp may be reused while the stamp stays the same.
   *
   * On a WAL file the version is the wal-index's transaction counter instead ({@link WalIndexCounter}:
   * the same commits, read without SQLite's read lock); a header caught mid-commit gives `NaN`, which
   * equals no stamp.
   */
  changeStamp(): ChangeStamp {
    const version = this.#walIndex ? (this.#walIndex.read() ?? Number.NaN) : (this.#dataVersion.get() as number);
    return { version, writes: this.#writes.n };
  }

  /** Lets go of the connection (once): closes it, or this store's share of it (open.ts). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
  }

  /** The rows of `query`. */
  all<O>(query: Compilable<O>): O[] {
    const c = query.compile();
    const stmt = this.#prepare(c.sql);
    try {
      return stmt.all(...c.parameters) as O[];
    } finally {
      if (!stmt.readonly) this.#wrote();
    }
  }

  /** The first row of `query`, or `undefined`. */
  get<O>(query: Compilable<O>): O | undefined {
    const c = query.compile();
    const stmt = this.#prepare(c.sql);
    try {
      return stmt.get(...c.parameters) as O | undefined;
    } finally {
      // A write with RETURNING reads rows too: it still counts as a write for the change stamp.
      if (!stmt.readonly) this.#wrote();
    }
  }

  /** Executes a write; resolves with the number of rows changed. */
  run(query: Compilable<unknown>): number {
    const c = query.compile();
    try {
      return this.#prepare(c.sql).run(...c.parameters).changes;
    } finally {
      this.#wrote();
    }
  }

  /**
   * Runs `work` in a `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so two
   * processes never deadlock upgrading a read lock). Rolls back and rethrows if `work` throws.
   */
  write<T>(work: () => T): T {
    // Counted before and after: a stamp taken inside the transaction (seeing uncommitted rows) is
    // then equal to neither the one before it nor the one after its commit or rollback.
    this.#wrote();
    try {
      return this.#tx.immediate(work) as T;
    } finally {
      this.#wrote();
    }
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
   * The query is built by the first lookup, not here: a store is constructed at every start, which
   * then needs no query builder (issue 12). That lookup throws if the compiled query has any
   * parameter that is not a named placeholder, or writes.
   */
  template<O, K extends string>(build: (param: (name: K) => string) => Compilable<O>): (args: Record<K, unknown>) => O | undefined {
    let lookup: ((args: Record<K, unknown>) => O | undefined) | undefined;
    const prepare = () => {
      const c = build((name) => PARAM_PREFIX + name).compile();
      const names = c.parameters.map((p) => {
        if (typeof p !== 'string' || !p.startsWith(PARAM_PREFIX)) throw new Error(`template parameter is not a placeholder: ${c.sql}`);
        return p.slice(PARAM_PREFIX.length) as K;
      });
      const stmt = this.sqlite.prepare<unknown[], unknown>(c.sql);
      if (!stmt.readonly) throw new Error(`template queries only read: ${c.sql}`);
      return (args: Record<K, unknown>) => stmt.get(...names.map((n) => args[n])) as O | undefined;
    };
    return (args) => (lookup ??= prepare())(args);
  }

  /** Counts a write through this connection; no wal-index read shared before it is used after it. */
  #wrote(): void {
    this.#writes.n++;
    wroteLocally();
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

/**
 * A query written as SQL text (`?` placeholders, then their values), which {@link Statements} runs as
 * it runs a built one. For the queries a server start makes (ensuring the account, its root key and
 * its public alias): a start then builds no query, and the query builder is not loaded (issue 12).
 */
export function sqlText<O>(text: string, ...parameters: unknown[]): Compilable<O> {
  const compiled = { sql: text, parameters } as unknown as CompiledQuery<O>;
  return { compile: () => compiled };
}

/** See {@link Statements.changeStamp}. */
export interface ChangeStamp {
  readonly version: number;
  readonly writes: number;
}

/** True when no commit can have happened between the two stamps. */
export function sameStamp(a: ChangeStamp, b: ChangeStamp): boolean {
  return a.version === b.version && a.writes === b.writes;
}
