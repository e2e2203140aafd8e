/**
 * Findings by reference, and the vulnerability database version each image was matched against
 * (issue 10's re-evaluation speed).
 *
 * ```
 *  scan_advisories  ref (pk) · body json · created_at     one advisory, content-addressed and shared
 *                                                         by every finding that names it
 *  image_scans      + vulndb_import · vulndb_generation   VulnDbVersion of the last match
 *                   findings json: {"v":2,"f":[[ref, package, fixed?]…]} from now on
 *                   (see storage/meta/scan-findings-codec.ts; older rows keep whole findings)
 * ```
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function scanAdvisoriesSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('scan_advisories')
        .addColumn('ref', t.text, (c) => c.primaryKey())
        .addColumn('body', t.text, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.alterTable('image_scans').addColumn('vulndb_import', t.text).execute();
      await db.schema.alterTable('image_scans').addColumn('vulndb_generation', t.int64).execute();
    },
  };
}
