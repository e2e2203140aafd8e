/**
 * ECR lists images in push order (DescribeImages): an index to page a repository's manifests by push
 * time, and to find its latest push time, without a sort or a scan.
 *
 * ```
 *  manifests        + idx(repository_id, pushed_at, digest)    a repository's images in push order
 * ```
 *
 * No data changes. Push times of existing images stay as recorded; images pushed within the same
 * millisecond before this release order by digest (from now on each push gets a later time than the
 * repository's previous one, see put-manifest.ts).
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

/** Builds the migration for one backend's column types (an index needs none). */
export function imagePushOrderSchema(_t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('manifests_by_pushed_at').on('manifests')
        .columns(['repository_id', 'pushed_at', 'digest']).execute();
    },
  };
}
