/**
 * Vulnerability scanning and background jobs.
 *
 * ```
 *  jobs               id (pk) · kind · payload json · dedupe_key · state (queued|running|failed)
 *                     · attempts · run_after · lease_owner · lease_until · error · created_at
 *                     idx(state, run_after)                     claim: oldest due job
 *                     unique(kind, dedupe_key) where dedupe_key is not null   one pending per key
 *  registry_scanning  account_id (pk) · config json
 *  image_scans        pk(account_id, repository, digest) · status · description · scan_type
 *                     · started_at · completed_at · vuln_source_updated_at · last_manual_at
 *                     · findings json · first_observed json
 *  image_inventories  digest (pk) · inventory json · created_at
 * ```
 *
 * Repositories are named by (account_id, repository) rather than a foreign key so per-account
 * namespaces need no change here; scans of a deleted image are removed by the scan module when it
 * sees the deletion event.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function scanningSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await s.createTable('jobs')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('kind', t.text, (c) => c.notNull())
        .addColumn('payload', t.text, (c) => c.notNull())
        .addColumn('dedupe_key', t.text)
        .addColumn('state', t.text, (c) => c.notNull())
        .addColumn('attempts', t.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('run_after', t.int64, (c) => c.notNull())
        .addColumn('lease_owner', t.text)
        .addColumn('lease_until', t.int64)
        .addColumn('error', t.text)
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await s.createIndex('jobs_due').on('jobs').columns(['state', 'run_after']).execute();
      await s.createIndex('jobs_dedupe').on('jobs').columns(['kind', 'dedupe_key']).unique()
        .where(sql.ref('dedupe_key'), 'is not', null).execute();

      await s.createTable('registry_scanning')
        .addColumn('account_id', t.text, (c) => c.primaryKey())
        .addColumn('config', t.text, (c) => c.notNull())
        .execute();

      await s.createTable('image_scans')
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('repository', t.text, (c) => c.notNull())
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('description', t.text, (c) => c.notNull())
        .addColumn('scan_type', t.text, (c) => c.notNull())
        .addColumn('started_at', t.int64, (c) => c.notNull())
        .addColumn('completed_at', t.int64)
        .addColumn('vuln_source_updated_at', t.int64)
        .addColumn('last_manual_at', t.int64)
        .addColumn('findings', t.text, (c) => c.notNull())
        .addColumn('first_observed', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('image_scans_pk', ['account_id', 'repository', 'digest'])
        .execute();

      await s.createTable('image_inventories')
        .addColumn('digest', t.text, (c) => c.primaryKey())
        .addColumn('inventory', t.text, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
    },
  };
}
