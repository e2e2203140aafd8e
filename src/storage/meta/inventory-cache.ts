import { createHash } from 'node:crypto';
import type { Inventory } from '../../core/scanning.js';
import { indexPackages, type IndexedPackages } from './scan-findings-codec.js';

/** Parsed inventories kept per store. */
const MAX_INVENTORIES = 32;

/**
 * The key parsed inventories are cached under: a hash of their stored text. Not the text itself:
 * V8 hashes a string longer than 16 KiB by its length only, so a Map keyed by inventories (~300 KB,
 * and many of one length) compared whole texts on every lookup — most of a re-evaluation's time
 * over distinct images. Hashing costs about a tenth of parsing.
 */
function textKey(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Adds to a small cache, dropping the oldest entry when full. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MAX_INVENTORIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}

/**
 * A scan store's parsed inventories (shared by the SQLite and PostgreSQL stores, which differ only
 * in how they fetch the text). Parsing dominated a re-evaluation pass, so parsed ones are kept by
 * digest and by text (images of one base share it); an inventory is immutable per digest, so an
 * entry is never stale. Callers must not modify the returned objects.
 */
export class InventoryCache {
  readonly #byDigest = new Map<string, Inventory>();
  readonly #byText = new Map<string, Inventory>();
  readonly #indexes = new WeakMap<Inventory, IndexedPackages>();

  /** The parsed inventory of `digest` if cached. */
  get(digest: string): Inventory | undefined {
    return this.#byDigest.get(digest);
  }

  /** Parses `text`, the stored inventory of `digest` (once per distinct text), and caches it. */
  add(digest: string, text: string): Inventory {
    const k = textKey(text);
    let inventory = this.#byText.get(k);
    if (!inventory) remember(this.#byText, k, (inventory = JSON.parse(text) as Inventory));
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
