/**
 * Public registries (ECR Public) and console passwords.
 *
 * ```
 *  public_registries     account_id (pk) · alias (unique) · display_name
 *  public_repositories   pk(account_id, name)  name = "<alias>/<short name>", unique
 *                        short_name · catalog (json) · search_text (lower-cased name + description)
 *                        · architectures / operating_systems ("|a|b|", for exact badge filters)
 *                        · logo (bytes) · logo_type · logo_etag · created_at
 *  login_profiles        pk(account_id, user_name; '' = the account root)
 *                        password_hash (scrypt) · reset_required (0/1) · created_at
 * ```
 */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

export function publicSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const s = db.schema;
      await s.createTable('public_registries')
        .addColumn('account_id', t.text, (c) => c.primaryKey())
        .addColumn('alias', t.text, (c) => c.notNull().unique())
        .addColumn('display_name', t.text, (c) => c.notNull().defaultTo(''))
        .execute();
      await s.createTable('public_repositories')
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('name', t.text, (c) => c.notNull().unique())
        .addColumn('short_name', t.text, (c) => c.notNull())
        .addColumn('catalog', t.text, (c) => c.notNull())
        .addColumn('search_text', t.text, (c) => c.notNull())
        .addColumn('architectures', t.text, (c) => c.notNull())
        .addColumn('operating_systems', t.text, (c) => c.notNull())
        .addColumn('logo', t.bytes)
        .addColumn('logo_type', t.text)
        .addColumn('logo_etag', t.text)
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('public_repositories_pk', ['account_id', 'name'])
        .execute();
      await s.createTable('login_profiles')
        .addColumn('account_id', t.text, (c) => c.notNull())
        .addColumn('user_name', t.text, (c) => c.notNull())
        .addColumn('password_hash', t.text, (c) => c.notNull())
        .addColumn('reset_required', t.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('login_profiles_pk', ['account_id', 'user_name'])
        .execute();
    },
  };
}

/** Row types of the tables above. */
export interface PublicSchema {
  public_registries: { account_id: string; alias: string; display_name: string };
  public_repositories: {
    account_id: string; name: string; short_name: string; catalog: string; search_text: string;
    architectures: string; operating_systems: string; logo: Buffer | null; logo_type: string | null; logo_etag: string | null; created_at: number;
  };
  login_profiles: { account_id: string; user_name: string; password_hash: string; reset_required: number; created_at: number };
}
