/**
 * Lifecycle policies, their previews, image archive state, pull-time exclusions, and the fence
 * garbage collection raises around a blob whose bytes it is deleting.
 *
 * ```
 *  repositories ─┬─< lifecycle_policies   repository_id (pk) · text · updated_at
 *                │                        last_evaluated_at · last_expired · last_transitioned
 *                ├─< lifecycle_previews   repository_id (pk) · status · text · started_at · results (json)
 *                └─< manifests ─< image_archive   pk(repository_id, digest) · status
 *                                 (CASCADE)        last_archived_at · last_activated_at
 *  pull_time_exclusions   pk(account_id, principal_arn) · created_at
 *  gc_blob_fence          digest (pk) · fenced_at       a blob GC is deleting; linkBlob refuses it
 * ```
 *
 * Every repository-keyed row cascades from `repositories` (archive rows from their manifest), so
 * deleting a repository or an image leaves nothing behind. Times are epoch milliseconds.
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

/** Builds the migration for one backend's column types. */
export function lifecycleSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await s.createTable('lifecycle_policies')
        .addColumn('repository_id', t.identityType, (c) => c.primaryKey().references('repositories.id').onDelete('cascade'))
        .addColumn('text', t.text, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addColumn('last_evaluated_at', t.int64)
        .addColumn('last_expired', t.int64)
        .addColumn('last_transitioned', t.int64)
        .execute();
      await s.createTable('lifecycle_previews')
        .addColumn('repository_id', t.identityType, (c) => c.primaryKey().references('repositories.id').onDelete('cascade'))
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('text', t.text, (c) => c.notNull())
        .addColumn('started_at', t.int64, (c) => c.notNull())
        .addColumn('results', t.text, (c) => c.notNull())
        .execute();
      await s.createTable('image_archive')
        .addColumn('repository_id', t.identityType, (c) => c.notNull())
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('last_archived_at', t.int64)
        .addColumn('last_activated_at', t.int64)
        .addPrimaryKeyConstraint('image_archive_pk', ['repository_id', 'digest'])
        .addForeignKeyConstraint('image_archive_manifest_fk', ['repository_id', 'digest'],
          'manifests', ['repository_id', 'digest'], (fk) => fk.onDelete('cascade'))
        .execute();
      await s.createTable('pull_time_exclusions')
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('principal_arn', t.text, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('pull_time_exclusions_pk', ['account_id', 'principal_arn'])
        .execute();
      await s.createTable('gc_blob_fence')
        .addColumn('digest', t.text, (c) => c.primaryKey())
        .addColumn('fenced_at', t.int64, (c) => c.notNull())
        .execute();
    },
  };
}
