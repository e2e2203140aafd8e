/**
 * Singleton schedules (issue 11): a periodic pass (garbage collection, lifecycle) that every node
 * schedules but only one node should run at a time. One node grants itself every lock; nodes on
 * PostgreSQL take a session advisory lock on a dedicated connection for the length of the pass.
 */
export interface SingletonLock {
  /**
   * Runs `task` while holding the registry-wide lock `name`, if no other node holds it; otherwise
   * does not run it. Resolves `{ ran: true, value }` or `{ ran: false }`; rejects with `task`'s error
   * (the lock is released either way) or when the lock store cannot be reached. If the lock's
   * connection is lost mid-pass, another node may start the same pass: tasks must be safe to
   * overlap (GC and lifecycle are: each is fenced by its own store transactions).
   */
  runExclusive<T>(name: string, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;

  /** Releases the connection(s); later calls reject. */
  close(): Promise<void>;
}

/** One node: every lock is granted (a pass never overlaps itself; `periodic` sees to that). */
export class LocalSingletonLock implements SingletonLock {
  async runExclusive<T>(_name: string, task: () => Promise<T>): Promise<{ ran: true; value: T }> {
    return { ran: true, value: await task() };
  }

  async close(): Promise<void> {}
}
