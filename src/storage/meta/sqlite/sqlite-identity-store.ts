import type { Kysely } from 'kysely';
import { PartitionedIdentityStore } from '../identity-facade.js';
import type { IdentitySchema } from '../migrations/schema.js';
import type { Statements } from './statements.js';
import { openSqlite } from './open.js';
import { SqliteIdentityAttachments } from './sqlite-identity-attachments.js';
import { SqliteIdentityGroups } from './sqlite-identity-groups.js';
import { SqliteIdentityPolicies } from './sqlite-identity-policies.js';
import { SqliteIdentityUsers } from './sqlite-identity-users.js';

/**
 * Opens (creating if needed) the identity store on the SQLite file at `path` — the same file as the
 * metadata store, on a connection of its own — and applies every pending metadata migration, so
 * whichever store opens a fresh file first migrates it. Throws when the file cannot be opened or migrated.
 */
export async function openSqliteIdentityStore(opts: { path: string }): Promise<SqliteIdentityStore> {
  const { db, sql } = await openSqlite<IdentitySchema>(opts.path);
  return new SqliteIdentityStore(db, sql);
}

/**
 * {@link IdentityStore} on the SQLite metadata file. kysely builds the SQL; statements run
 * synchronously on better-sqlite3, writes in `BEGIN IMMEDIATE` transactions, so every method is
 * one atomic step. Lists are ordered by the lower-cased name in UTF-8 byte order; `marker` is
 * compared the same way. The work is split by concern into the `sqlite-identity-*` parts.
 */
export class SqliteIdentityStore extends PartitionedIdentityStore {
  /** Use {@link openSqliteIdentityStore}, which migrates first. */
  constructor(db: Kysely<IdentitySchema>, private readonly sql: Statements) {
    const c = { db, sql };
    super({ users: new SqliteIdentityUsers(c), groups: new SqliteIdentityGroups(c), attachments: new SqliteIdentityAttachments(c), policies: new SqliteIdentityPolicies(c) });
  }

  async close(): Promise<void> {
    // Every call runs to completion synchronously, so nothing is pending here; this lets go of
    // the file's connection (shared with the process's other stores of the file, open.ts).
    this.sql.close();
  }
}
