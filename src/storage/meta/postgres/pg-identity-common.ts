/**
 * Shared pieces of the PostgreSQL identity store: async lookups over a connection or transaction.
 * Quotas, row mapping and errors are the SQLite store's own (imported), so both backends answer alike.
 */
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { PolicyOwner } from '../../../core/identity.js';
import type { IdentitySchema } from '../migrations/schema.js';
import { noSuchEntity, ownerKey, type GroupRow, type UserRow } from '../sqlite/sqlite-identity-common.js';

export {
  alreadyExists, deleteConflict, isAwsManaged, limitOf, MAX_ACCESS_KEYS, MAX_POLICY_VERSIONS, mergeTags, noSuchEntity, ownerKey,
  toGroup, toKey, toPolicy, toUser, TOUCH_COALESCE_MS, versionNumber, type GroupRow, type KeyRow, type PolicyRow, type UserRow,
} from '../sqlite/sqlite-identity-common.js';

/** The pool, or the transaction a write runs in. */
export type Db = Kysely<IdentitySchema>;

export async function requireAccount(db: Db, accountId: string): Promise<void> {
  const row = await db.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
  if (!row) throw noSuchEntity('account', accountId, { accountId });
}

export function findUser(db: Db, accountId: string, userName: string): Promise<UserRow | undefined> {
  return db.selectFrom('iam_users').selectAll()
    .where('account_id', '=', accountId).where('user_name_lower', '=', userName.toLowerCase()).executeTakeFirst();
}

/** The user's row; throws `NoSuchEntity`. */
export async function requireUser(db: Db, accountId: string, userName: string): Promise<UserRow> {
  const row = await findUser(db, accountId, userName);
  if (!row) throw noSuchEntity('user', userName, { accountId, userName });
  return row;
}

export function findGroup(db: Db, accountId: string, groupName: string): Promise<GroupRow | undefined> {
  return db.selectFrom('iam_groups').selectAll()
    .where('account_id', '=', accountId).where('group_name_lower', '=', groupName.toLowerCase()).executeTakeFirst();
}

/** The group's row; throws `NoSuchEntity`. */
export async function requireGroup(db: Db, accountId: string, groupName: string): Promise<GroupRow> {
  const row = await findGroup(db, accountId, groupName);
  if (!row) throw noSuchEntity('group', groupName, { accountId, groupName });
  return row;
}

/** Checks the owner exists (throws `NoSuchEntity`) and returns its key columns. */
export async function requireOwner(db: Db, owner: PolicyOwner): Promise<ReturnType<typeof ownerKey>> {
  if (owner.kind === 'user') await requireUser(db, owner.accountId, owner.name);
  else await requireGroup(db, owner.accountId, owner.name);
  return ownerKey(owner);
}

/** `column` starts with `prefix` (no LIKE, so `%` and `_` in paths are literal). */
export function startsWith(column: string, prefix: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`starts_with(${sql.ref(column)}, ${prefix})`;
}
