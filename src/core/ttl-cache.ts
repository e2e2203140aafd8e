/**
 * A small time-bounded cache for hot-path results (authentication, alias owners, archived digests).
 * Bounded in size (cleared when full rather than tracking recency: entries are cheap to recompute
 * and live seconds).
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();
  #epoch = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  has(key: string, now: number): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    if (e.until > now) return true;
    this.#entries.delete(key);
    return false;
  }

  get(key: string, now: number): V | undefined {
    return this.has(key, now) ? this.#entries.get(key)!.value : undefined;
  }

  /**
   * A counter bumped by every {@link delete} and {@link clear}. Read it before loading a value and
   * pass it to {@link set}: a value loaded while an invalidation arrived may be stale and is not kept.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** Stores `value` for the TTL, but never past `notAfter`; skipped when invalidated since `epoch`. */
  set(key: string, value: V, now: number, notAfter = Number.POSITIVE_INFINITY, epoch = this.#epoch): void {
    if (epoch !== this.#epoch) return;
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(key, { value, until: Math.min(now + this.ttlMs, notAfter) });
  }

  delete(key: string): void {
    this.#epoch++;
    this.#entries.delete(key);
  }

  clear(): void {
    this.#epoch++;
    this.#entries.clear();
  }
}
