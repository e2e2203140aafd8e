/**
 * What a re-evaluation needs of a stored inventory before reading it whole (issue 10's speed over
 * distinct images).
 *
 * ```
 *  image_inventory_index  digest (pk) · text_hash · names json
 *      text_hash  sha256 of the image_inventories text: identical texts are parsed once without
 *                 fetching the text again (storage/meta/inventory-cache.ts)
 *      names      the names the packages are looked up under (own and source names): an image no
 *                 changed record names is not read at all
 * ```
 *
 * A table of its own, not columns of image_inventories: SQLite stores a ~300 KB inventory in a
 * chain of overflow pages, and reaching a column added after it walks that whole chain. Written with
 * the inventory (same transaction); inventories stored before have no row, and readers then fetch
 * and parse the text as before.
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function inventoryIndexSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('image_inventory_index')
        .addColumn('digest', t.text, (c) => c.primaryKey())
        .addColumn('text_hash', t.text, (c) => c.notNull())
        .addColumn('names', t.text, (c) => c.notNull())
        .execute();
    },
  };
}
