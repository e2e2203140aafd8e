/**
 * The built-in key service and blob encryption (see core/ports/key-store.ts for the layout).
 *
 * ```
 *  kms_keys            key_id (pk) · account_id · doc (json of the key record)
 *    idx(account_id, key_id)
 *  kms_key_versions    pk(key_id, version) · sealed · public_key · origin · created_at
 *  kms_aliases         pk(account_id, alias_name) · target_key_id · created_at · updated_at
 *  blob_data_keys      pk(digest, data_key_id, scope) · wrapped · created_at
 * ```
 *
 * A key's mutable attributes live in one JSON document: every change is a read-modify-write in
 * one transaction, and the service model (not SQL) is where their shapes are checked.
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function kmsSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await s.createTable('kms_keys')
        .addColumn('key_id', t.text, (c) => c.primaryKey())
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('doc', t.text, (c) => c.notNull())
        .execute();
      await s.createIndex('kms_keys_by_account').on('kms_keys').columns(['account_id', 'key_id']).execute();
      await s.createTable('kms_key_versions')
        .addColumn('key_id', t.text, (c) => c.notNull())
        .addColumn('version', t.int64, (c) => c.notNull())
        .addColumn('sealed', t.bytes, (c) => c.notNull())
        .addColumn('public_key', t.bytes)
        .addColumn('origin', t.text, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_key_versions_pk', ['key_id', 'version'])
        .execute();
      await s.createTable('kms_aliases')
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('alias_name', t.text, (c) => c.notNull())
        .addColumn('target_key_id', t.text, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('kms_aliases_pk', ['account_id', 'alias_name'])
        .execute();
      await s.createTable('blob_data_keys')
        .addColumn('digest', t.text, (c) => c.notNull())
        .addColumn('data_key_id', t.text, (c) => c.notNull())
        .addColumn('scope', t.text, (c) => c.notNull())
        .addColumn('wrapped', t.bytes, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('blob_data_keys_pk', ['digest', 'data_key_id', 'scope'])
        .execute();
    },
  };
}

/** Row types of the tables above. */
export interface KeySchema {
  kms_keys: { key_id: string; account_id: string; doc: string };
  kms_key_versions: { key_id: string; version: number; sealed: Uint8Array; public_key: Uint8Array | null; origin: string; created_at: number };
  kms_aliases: { account_id: string; alias_name: string; target_key_id: string; created_at: number; updated_at: number };
  blob_data_keys: { digest: string; data_key_id: string; scope: string; wrapped: Uint8Array; created_at: number };
}
