/**
 * ECR control plane: repository ownership, settings and policy; image sizes and pull times; the
 * per-account registry policy and account settings.
 *
 * ```
 *  repositories                      + account_id (default '000000000000') · settings (json)
 *    │                               + policy (null = none)
 *    │                               idx(account_id, name)            an account's repositories
 *    └──< manifests                  + image_size (default 0) · last_pulled_at (null = never)
 *
 *  registry_policies                 account_id (pk) · policy
 *  account_settings                  pk(account_id, name) · value
 * ```
 *
 * Existing rows get the defaults: the default account, the default settings, image size 0 (it was
 * not recorded before; a re-push of the same digest does not rewrite it) and no pull time.
 * SQLite takes one ADD COLUMN per ALTER TABLE, hence one statement per column.
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

/**
 * `DEFAULT_REPOSITORY_SETTINGS` as of this migration, spelled out: a migration must not change
 * after it was applied, even when the code's defaults do (readers merge newer defaults in).
 */
const SETTINGS_DEFAULT = JSON.stringify({
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: false,
  encryption: { encryptionType: 'AES256' },
  tags: [],
});

/** Builds the migration for one backend's column types. */
export function ecrSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;

      await s.alterTable('repositories')
        .addColumn('account_id', t.text, (c) => c.notNull().defaultTo('000000000000')).execute();
      await s.alterTable('repositories')
        .addColumn('settings', t.text, (c) => c.notNull().defaultTo(SETTINGS_DEFAULT)).execute();
      await s.alterTable('repositories').addColumn('policy', t.text).execute();
      await s.createIndex('repositories_by_account').on('repositories').columns(['account_id', 'name']).execute();

      await s.alterTable('manifests')
        .addColumn('image_size', t.int64, (c) => c.notNull().defaultTo(0)).execute();
      await s.alterTable('manifests').addColumn('last_pulled_at', t.int64).execute();

      await s.createTable('registry_policies')
        .addColumn('account_id', t.text, (c) => c.primaryKey())
        .addColumn('policy', t.text, (c) => c.notNull())
        .execute();

      await s.createTable('account_settings')
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('value', t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('account_settings_pk', ['account_id', 'name'])
        .execute();
    },
  };
}
