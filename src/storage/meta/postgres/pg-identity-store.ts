import { PartitionedIdentityStore } from '../identity-facade.js';
import type { IdentitySchema } from '../migrations/schema.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { PgIdentityAttachments } from './pg-identity-attachments.js';
import { PgIdentityGroups } from './pg-identity-groups.js';
import { PgIdentityPolicies } from './pg-identity-policies.js';
import { PgIdentityUsers } from './pg-identity-users.js';
import type { Kysely } from 'kysely';

/**
 * Opens the identity store on the PostgreSQL database at `url`, on a lease of the process's one
 * pool (migrated on first use). Throws when the database cannot be reached or migrated.
 */
export async function openPostgresIdentityStore(opts: { url: string; poolSize: number }): Promise<PgIdentityStore> {
  return new PgIdentityStore(await leasePostgres(opts));
}

/**
 * {@link IdentityStore} on PostgreSQL: the same tables, row mapping and errors as the SQLite store.
 * Every check-then-write runs in a SERIALIZABLE transaction (retried on serialization failure, see
 * pg-tx.ts), which gives the SQLite store's single-writer semantics across nodes. Secrets are stored
 * exactly as there: access-key secrets as the keyring's ciphertext (bytea), never in clear. Lists are
 * ordered by the lower-cased name in byte order (the "C" collation of every text column).
 */
export class PgIdentityStore extends PartitionedIdentityStore {
  /** Use {@link openPostgresIdentityStore}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    const db = handle.db as unknown as Kysely<IdentitySchema>;
    super({ users: new PgIdentityUsers(db), groups: new PgIdentityGroups(db), attachments: new PgIdentityAttachments(db), policies: new PgIdentityPolicies(db) });
  }

  async close(): Promise<void> {
    // Releases this store's lease; the pool ends with the process's last PostgreSQL store.
    await this.handle.close();
  }
}
