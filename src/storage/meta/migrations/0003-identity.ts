/**
 * IAM entities of the built-in identity service (see `core/ports/identity-store.ts`).
 *
 * ```
 *  accounts                     id (pk, 12 digits) · created_at
 *    │ every table below: account_id → accounts.id (NO ACTION; accounts are never deleted)
 *    ├──< iam_users             pk(account_id, user_name_lower) · user_name (as created)
 *    │     ▲                    user_id (unique) · path · created_at · tags (json [{Key,Value}])
 *    │     │ (account_id, user_name_lower)  NO ACTION
 *    │     │
 *    │   group_members          pk(account_id, group_name_lower, user_name_lower)
 *    │     │                    idx(account_id, user_name_lower)            groups of a user
 *    │     ▼ (account_id, group_name_lower)  NO ACTION
 *    ├──< iam_groups            pk(account_id, group_name_lower) · group_name · group_id (unique)
 *    │                          path · created_at
 *    ├──< access_keys           access_key_id (pk) · user_name (as created; NULL = the root's)
 *    │                          status · secret_ciphertext · created_at · last_used_at
 *    │                          idx(account_id, user_name, created_at)
 *    ├──< inline_policies       pk(account_id, owner_kind, owner_name_lower, policy_name) · document
 *    ├──< policy_attachments    pk(account_id, owner_kind, owner_name_lower, policy_arn)
 *    │                          idx(policy_arn); policy_arn may name an AWS managed policy
 *    └──< managed_policies      pk(account_id, policy_name_lower) · arn (unique) · policy_name
 *           │                   policy_id (unique) · path · description · default_version_id
 *           │                   attachment_count · version_counter · created_at · updated_at
 *           └──< policy_versions  pk(arn, version_id) · document · created_at
 *                                 arn → managed_policies.arn ON DELETE CASCADE
 * ```
 *
 * owner_kind is 'user' or 'group'; owner_name_lower names a row of iam_users or iam_groups, so
 * those two tables carry no foreign key and the store checks owners itself. `*_lower` columns hold
 * the name lower-cased by the store (IAM names are unique per account ignoring case; SQL `lower()`
 * is not used because it differs between backends). `version_counter` is the highest version
 * number ever issued, so a deleted `vN` is never reused. Times are epoch milliseconds.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

/** Builds the migration for one backend's column types. */
export function identitySchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      const account = (c: ColumnDefinitionBuilder) => c.notNull().references('accounts.id');
      const required = (c: ColumnDefinitionBuilder) => c.notNull();

      await s.createTable('accounts')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('created_at', t.int64, required)
        .execute();

      await s.createTable('iam_users')
        .addColumn('account_id', t.text, account)
        .addColumn('user_name', t.text, required)
        .addColumn('user_name_lower', t.text, required)
        .addColumn('user_id', t.text, (c) => c.notNull().unique())
        .addColumn('path', t.text, required)
        .addColumn('created_at', t.int64, required)
        .addColumn('tags', t.text, required)
        .addPrimaryKeyConstraint('iam_users_pk', ['account_id', 'user_name_lower'])
        .execute();

      await s.createTable('iam_groups')
        .addColumn('account_id', t.text, account)
        .addColumn('group_name', t.text, required)
        .addColumn('group_name_lower', t.text, required)
        .addColumn('group_id', t.text, (c) => c.notNull().unique())
        .addColumn('path', t.text, required)
        .addColumn('created_at', t.int64, required)
        .addPrimaryKeyConstraint('iam_groups_pk', ['account_id', 'group_name_lower'])
        .execute();

      await s.createTable('group_members')
        .addColumn('account_id', t.text, required)
        .addColumn('group_name_lower', t.text, required)
        .addColumn('user_name_lower', t.text, required)
        .addPrimaryKeyConstraint('group_members_pk', ['account_id', 'group_name_lower', 'user_name_lower'])
        .addForeignKeyConstraint('group_members_group_fk', ['account_id', 'group_name_lower'],
          'iam_groups', ['account_id', 'group_name_lower'])
        .addForeignKeyConstraint('group_members_user_fk', ['account_id', 'user_name_lower'],
          'iam_users', ['account_id', 'user_name_lower'])
        .execute();
      await s.createIndex('group_members_by_user').on('group_members')
        .columns(['account_id', 'user_name_lower']).execute();

      await s.createTable('access_keys')
        .addColumn('access_key_id', t.text, (c) => c.primaryKey())
        .addColumn('account_id', t.text, account)
        .addColumn('user_name', t.text)
        .addColumn('status', t.text, required)
        .addColumn('secret_ciphertext', t.bytes, required)
        .addColumn('created_at', t.int64, required)
        .addColumn('last_used_at', t.int64)
        .execute();
      await s.createIndex('access_keys_by_user').on('access_keys')
        .columns(['account_id', 'user_name', 'created_at']).execute();

      await s.createTable('inline_policies')
        .addColumn('account_id', t.text, account)
        .addColumn('owner_kind', t.text, required)
        .addColumn('owner_name_lower', t.text, required)
        .addColumn('policy_name', t.text, required)
        .addColumn('document', t.text, required)
        .addPrimaryKeyConstraint('inline_policies_pk', ['account_id', 'owner_kind', 'owner_name_lower', 'policy_name'])
        .execute();

      await s.createTable('managed_policies')
        .addColumn('account_id', t.text, account)
        .addColumn('arn', t.text, (c) => c.notNull().unique())
        .addColumn('policy_name', t.text, required)
        .addColumn('policy_name_lower', t.text, required)
        .addColumn('policy_id', t.text, (c) => c.notNull().unique())
        .addColumn('path', t.text, required)
        .addColumn('description', t.text)
        .addColumn('default_version_id', t.text, required)
        .addColumn('attachment_count', t.int64, required)
        .addColumn('version_counter', t.int64, required)
        .addColumn('created_at', t.int64, required)
        .addColumn('updated_at', t.int64, required)
        .addPrimaryKeyConstraint('managed_policies_pk', ['account_id', 'policy_name_lower'])
        .execute();

      await s.createTable('policy_versions')
        .addColumn('arn', t.text, (c) => c.notNull().references('managed_policies.arn').onDelete('cascade'))
        .addColumn('version_id', t.text, required)
        .addColumn('document', t.text, required)
        .addColumn('created_at', t.int64, required)
        .addPrimaryKeyConstraint('policy_versions_pk', ['arn', 'version_id'])
        .execute();

      await s.createTable('policy_attachments')
        .addColumn('account_id', t.text, account)
        .addColumn('owner_kind', t.text, required)
        .addColumn('owner_name_lower', t.text, required)
        .addColumn('policy_arn', t.text, required)
        .addPrimaryKeyConstraint('policy_attachments_pk', ['account_id', 'owner_kind', 'owner_name_lower', 'policy_arn'])
        .execute();
      await s.createIndex('policy_attachments_by_policy').on('policy_attachments').columns(['policy_arn']).execute();
    },
  };
}
