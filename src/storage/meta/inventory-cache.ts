import { createHash } from 'node:crypto';
import { lookupNames, type Inventory } from '../../core/scanning.js';
import { indexPackages, type IndexedPackages } from './scan-findings-codec.js';

/** Parsed inventories kept per store. */
const MAX_INVENTORIES = 32;

/**
 * The key parsed inventories are cached under: a hash of their stored text (stored beside it since
 * migration 0012). Not the text itself: V8 hashes a string longer than 16 KiB by its length only,
 * so a Map keyed by inventories (~300 KB, and many of one length) compared whole texts on every
 * lookup — most of a re-evaluation's time over distinct images.
 */
function textHash(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Adds to a small cache, dropping the oldest entry when full. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_INVENTORIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}

/** The stored text of an inventory, and its `image_inventory_index` columns (migration 0012). */
export function inventoryRows(inventory: Inventory): { text: string; index: { text_hash: string; names: string } } {
  const text = JSON.stringify(inventory);
  return { text, index: { text_hash: textHash(text), names: JSON.stringify(lookupNames(inventory)) } };
}

/**
 * A scan store's parsed inventories (shared by the SQLite and PostgreSQL stores, which differ only
 * in how they fetch rows). Parsing dominated a re-evaluation pass, so parsed ones are kept by digest
 * and by text hash (images of one base share the text; with the hash stored, such an image's text
 * is not even fetched). An inventory is immutable per digest, so an entry is never stale. Callers
 * must not modify the returned objects.
 */
export class InventoryCache {
  readonly #byDigest = new Map<string, Inventory>();
  readonly #byHash = new Map<string, Inventory>();
  readonly #indexes = new WeakMap<Inventory, IndexedPackages>();

  /** The parsed inventory of `digest` if cached. */
  get(digest: string): Inventory | undefined {
    return this.#byDigest.get(digest);
  }

  /** The parsed inventory of `digest` if one with its stored text hash is cached. */
  getByHash(digest: string, hash: string | undefined): Inventory | undefined {
    const hit = hash === undefined ? undefined : this.#byHash.get(hash);
    if (hit) remember(this.#byDigest, digest, hit);
    return hit;
  }

  /**
   * Parses `text`, the stored inventory of `digest` (once per distinct text), and caches it;
   * `hash` is its stored hash (`undefined` for an inventory stored before hashes were kept).
   */
  add(digest: string, text: string, hash: string | undefined): Inventory {
    const k = hash ?? textHash(text);
    let inventory = this.#byHash.get(k);
    if (!inventory) remember(this.#byHash, k, (inventory = JSON.parse(text) as Inventory));
    remember(this.#byDigest, digest, inventory);
    return inventory;
  }

  /** `inventory`'s package list indexed for encoding findings (built once per inventory). */
  indexed(inventory: Inventory): IndexedPackages {
    let indexed = this.#indexes.get(inventory);
    if (!indexed) this.#indexes.set(inventory, (indexed = indexPackages(inventory.packages)));
    return indexed;
  }
}

/** The names of an `image_inventory_index` row (`undefined` without one). */
export function storedNames(row: { names: string } | undefined): readonly string[] | undefined {
  return row ? JSON.parse(row.names) as string[] : undefined;
}
