import type { ChangeFeed, ChangeListener, ChangeTopic } from './ports/change-feed.js';

/**
 * The change feed of one process (the embedded default, and `--workers` where each worker keeps
 * its TTL caches): a publish reaches this process's listeners synchronously.
 */
export class LocalChangeFeed implements ChangeFeed {
  readonly #listeners = new Map<ChangeTopic, Set<ChangeListener>>();
  #closed = false;

  publish(topic: ChangeTopic, key: string): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('change feed closed'));
    this.deliver(topic, key);
    return Promise.resolve();
  }

  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Hands a change to this process's listeners (used by transports that receive from other nodes). */
  deliver(topic: ChangeTopic, key: string | undefined): void {
    for (const l of this.#listeners.get(topic) ?? []) {
      try {
        l(key);
      } catch {
        // A cache that fails to drop an entry still expires it by TTL; one bad listener must not stop the rest.
      }
    }
  }

  /** Every topic's listeners get `undefined`: drop everything. */
  deliverReset(): void {
    for (const topic of this.#listeners.keys()) this.deliver(topic, undefined);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    return Promise.resolve();
  }
}
