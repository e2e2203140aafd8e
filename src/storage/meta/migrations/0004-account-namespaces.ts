/**
 * Each account is its own registry: repository names become unique per account, not globally.
 *
 * ```
 *  repositories      id (pk, never reused) · name · created_at · account_id · settings · policy
 *                    unique(account_id, name)     was: unique(name) + idx(account_id, name)
 * ```
 *
 * Every row already records its owning account (0002), so no data changes: the same rows, ids and
 * children stay. PostgreSQL drops the column constraint. SQLite cannot drop a column's UNIQUE, so
 * the table is rebuilt the way SQLite documents it (https://www.sqlite.org/lang_altertable.html,
 * "Making Other Kinds Of Table Schema Changes"): copy into a new table with the same ids, drop the
 * old, rename the new. That needs foreign keys off while it runs (else DROP TABLE would cascade to
 * every manifest), which the SQLite opener does for the whole migration run and then checks with
 * `PRAGMA foreign_key_check` before committing. The AUTOINCREMENT high-water mark is carried
 * over, so an id of a deleted repository is still never reused.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaTypes } from './dialect.js';

/** The settings default as 0002 spelled it (a migration must not follow later code changes). */
const SETTINGS_DEFAULT = JSON.stringify({
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: false,
  encryption: { encryptionType: 'AES256' },
  tags: [],
});

/** Builds the migration for one backend's column types. */
export function accountNamespacesSchema(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (t.engine === 'postgres') {
        await sql`alter table repositories drop constraint if exists repositories_name_key`.execute(db);
        await db.schema.dropIndex('repositories_by_account').ifExists().execute();
        await db.schema.createIndex('repositories_account_name').on('repositories').columns(['account_id', 'name']).unique().execute();
        return;
      }
      const seq = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'repositories'`.execute(db);
      await db.schema.createTable('repositories_new')
        .addColumn('id', t.identityType, (c) => t.identity(c))
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('account_id', t.text, (c) => c.notNull().defaultTo('000000000000'))
        .addColumn('settings', t.text, (c) => c.notNull().defaultTo(SETTINGS_DEFAULT))
        .addColumn('policy', t.text)
        .execute();
      await sql`insert into repositories_new (id, name, created_at, account_id, settings, policy)
        select id, name, created_at, account_id, settings, policy from repositories`.execute(db);
      await db.schema.dropTable('repositories').execute();
      await db.schema.alterTable('repositories_new').renameTo('repositories').execute();
      await db.schema.createIndex('repositories_account_name').on('repositories').columns(['account_id', 'name']).unique().execute();
      const high = seq.rows[0]?.seq;
      if (high !== undefined) {
        await sql`update sqlite_sequence set seq = max(seq, ${high}) where name = 'repositories'`.execute(db);
      }
    },
  };
}
