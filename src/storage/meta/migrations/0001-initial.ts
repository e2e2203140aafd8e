/**
 * Initial metadata schema.
 *
 * ```
 *  repositories                      id (pk, never reused) · name (unique, byte order) · created_at
 *    │ every child row: repository_id → repositories.id ON DELETE CASCADE
 *    ├──< repository_blobs           pk(repository_id, digest) · size · created_at
 *    │        ▲                      idx(digest)                      listLinkedBlobs, GC
 *    │        │ (repository_id, blob_digest)  NO ACTION: a referenced link cannot go
 *    │        │
 *    ├──< manifests ─────────────────pk(repository_id, digest) · media_type · size · body
 *    │    │  ▲  ▲                    artifact_type · subject · annotations (json) · pushed_at
 *    │    │  │  │                    idx(repository_id, subject, digest)   referrers
 *    │    │  │  └─ manifest_blobs    pk(repository_id, manifest_digest, blob_digest)
 *    │    │  │       CASCADE from its manifest; idx(repository_id, blob_digest)
 *    │    │  └──── manifest_children pk(repository_id, parent_digest, child_digest)
 *    │    │          CASCADE from the parent; child → manifests NO ACTION (an index pins its
 *    │    │          children); idx(repository_id, child_digest)
 *    │    └──────< tags              pk(repository_id, name) · digest · updated_at
 *    │               digest → manifests NO ACTION; idx(repository_id, digest)
 *    └──< uploads                    id (pk) · size · started_at · updated_at
 *                                    idx(repository_id, id) · idx(updated_at)   stale sweep
 * ```
 *
 * Times are epoch milliseconds. NO ACTION constraints are checked at the end of each statement,
 * so deleting a repository (which cascades to every table at once) never trips them; the store
 * checks the same rules itself first to report domain errors rather than constraint failures.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

/** Builds the migration for one backend's column types. */
export function initialSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      const repoId = (c: ColumnDefinitionBuilder) => c.notNull().references('repositories.id').onDelete('cascade');

      await s.createTable('repositories')
        .addColumn('id', t.identityType, (c) => t.identity(c))
        .addColumn('name', t.text, (c) => c.notNull().unique())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();

      await s.createTable('repository_blobs')
        .addColumn('repository_id', t.identityType, repoId)
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('size', t.int64, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
        .execute();
      await s.createIndex('repository_blobs_by_digest').on('repository_blobs').columns(['digest']).execute();

      await s.createTable('uploads')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('repository_id', t.identityType, repoId)
        .addColumn('size', t.int64, (c) => c.notNull())
        .addColumn('started_at', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .execute();
      await s.createIndex('uploads_by_repository').on('uploads').columns(['repository_id', 'id']).execute();
      await s.createIndex('uploads_by_updated_at').on('uploads').columns(['updated_at']).execute();

      await s.createTable('manifests')
        .addColumn('repository_id', t.identityType, repoId)
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('media_type', t.text, (c) => c.notNull())
        .addColumn('size', t.int64, (c) => c.notNull())
        .addColumn('body', t.bytes, (c) => c.notNull())
        .addColumn('artifact_type', t.text)
        .addColumn('subject', t.text)
        .addColumn('annotations', t.text)
        .addColumn('pushed_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest'])
        .execute();
      await s.createIndex('manifests_by_subject').on('manifests')
        .columns(['repository_id', 'subject', 'digest']).execute();

      await s.createTable('manifest_blobs')
        .addColumn('repository_id', t.identityType, repoId)
        .addColumn('manifest_digest', t.text, (c) => c.notNull())
        .addColumn('blob_digest', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_blobs_pk', ['repository_id', 'manifest_digest', 'blob_digest'])
        .addForeignKeyConstraint('manifest_blobs_manifest_fk', ['repository_id', 'manifest_digest'],
          'manifests', ['repository_id', 'digest'], (fk) => fk.onDelete('cascade'))
        .addForeignKeyConstraint('manifest_blobs_blob_fk', ['repository_id', 'blob_digest'],
          'repository_blobs', ['repository_id', 'digest'])
        .execute();
      await s.createIndex('manifest_blobs_by_blob').on('manifest_blobs')
        .columns(['repository_id', 'blob_digest']).execute();

      await s.createTable('manifest_children')
        .addColumn('repository_id', t.identityType, repoId)
        .addColumn('parent_digest', t.text, (c) => c.notNull())
        .addColumn('child_digest', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_children_pk', ['repository_id', 'parent_digest', 'child_digest'])
        .addForeignKeyConstraint('manifest_children_parent_fk', ['repository_id', 'parent_digest'],
          'manifests', ['repository_id', 'digest'], (fk) => fk.onDelete('cascade'))
        .addForeignKeyConstraint('manifest_children_child_fk', ['repository_id', 'child_digest'],
          'manifests', ['repository_id', 'digest'])
        .execute();
      await s.createIndex('manifest_children_by_child').on('manifest_children')
        .columns(['repository_id', 'child_digest']).execute();

      await s.createTable('tags')
        .addColumn('repository_id', t.identityType, repoId)
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
        .addForeignKeyConstraint('tags_manifest_fk', ['repository_id', 'digest'],
          'manifests', ['repository_id', 'digest'])
        .execute();
      await s.createIndex('tags_by_digest').on('tags').columns(['repository_id', 'digest']).execute();
    },
  };
}
