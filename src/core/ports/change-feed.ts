/**
 * Cross-node change notifications for in-process caches (issue 11). A node that changes something
 * another node may hold in a cache publishes the changed key; every node (itself included) hears it
 * and drops its copy. Caches keep their short TTL as the fallback for a notification that is lost.
 *
 * ```
 *   node A: write commits ──► publish(topic, key) ──► [feed] ──► node A, B, C listeners(key)
 *   feed reconnected after a gap ───────────────────────────────► listeners(undefined) = drop everything
 * ```
 */

/** Topics berth publishes on; keys are the cache keys of that topic. */
export type ChangeTopic =
  /** Anything a policy decision depends on (policies, keys, users, groups); key `*`. */
  | 'policies'
  /** A repository was deleted or changed (owner, tags); key: its RepoKey. */
  | 'repository'
  /** A manifest was deleted; key: `<RepoKey>@<digest>`. */
  | 'manifest'
  /** An ECR Public registry alias was set or changed; key `*`. */
  | 'alias';

/**
 * Called with the changed key, or `undefined` when anything under the topic may have changed
 * (notifications may have been missed, e.g. after the feed reconnected).
 */
export type ChangeListener = (key: string | undefined) => void;

export interface ChangeFeed {
  /**
   * Tells every node that `key` changed. Call it after the change has committed. Resolves once the
   * notification is handed to the transport; rejects when it could not be (the caller logs it: the
   * TTL of the other nodes' caches still bounds staleness). Idempotent: a repeat only drops again.
   */
  publish(topic: ChangeTopic, key: string): Promise<void>;

  /**
   * Calls `listener` for each change published on `topic` by any node, including this one. Listeners
   * must be quick and must not throw (a throw is swallowed). Returns the unsubscribe function.
   */
  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void;

  /** Stops listening and releases the connection; later publishes reject. */
  close(): Promise<void>;
}
