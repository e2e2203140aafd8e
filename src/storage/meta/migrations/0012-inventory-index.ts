/**
 * What a re-evaluation needs of a stored inventory before reading it whole (issue 10's speed over
 * distinct images).
 *
 * ```
 *  image_inventories  + text_hash   sha256 of the inventory text: identical texts are parsed once
 *                                   without fetching the text again (InventoryCache)
 *                     + names json  the names the packages are looked up under (own and source
 *                                   names): an image no changed record names is not read at all
 * ```
 *
 * Both stay NULL for rows written before; readers then fetch and parse the text as before.
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function inventoryIndexSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('image_inventories').addColumn('text_hash', t.text).execute();
      await db.schema.alterTable('image_inventories').addColumn('names', t.text).execute();
    },
  };
}
