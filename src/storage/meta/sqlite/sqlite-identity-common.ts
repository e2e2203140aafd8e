/** Shared pieces of the SQLite identity store: context, quotas, lookups, row mapping, errors. */
import { sql, type Kysely, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { fail, type BerthError } from '../../../core/errors.js';
import type { AccessKey, AccessKeyStatus, IamGroup, IamUser, ManagedPolicy, PolicyOwner, ResourceTag } from '../../../core/identity.js';
import type { IamPage } from '../../../core/ports/identity-store.js';
import type {
  AccessKeysTable, IamGroupsTable, IamUsersTable, IdentitySchema, ManagedPoliciesTable,
} from '../migrations/schema.js';
import { sqlText, type Statements } from './statements.js';

/** What every part of the store works on: one connection; queries built by kysely, or SQL text where a start runs them (sqlText). */
export interface IdentityDb {
  readonly db: Kysely<IdentitySchema>;
  readonly sql: Statements;
}

// AWS IAM quotas (the memory store enforces the same).
export const MAX_ACCESS_KEYS = 2;
export const MAX_POLICY_VERSIONS = 5;
export const MAX_USER_TAGS = 50;
/** touchAccessKey skips a write when the recorded use is more recent than this. */
export const TOUCH_COALESCE_MS = 60_000;

export type UserRow = Selectable<IamUsersTable>;
export type GroupRow = Selectable<IamGroupsTable>;
export type KeyRow = Selectable<AccessKeysTable>;
export type PolicyRow = Selectable<ManagedPoliciesTable>;

export function requireAccount(c: IdentityDb, accountId: string): void {
  const row = c.sql.get(sqlText('select id from accounts where id = ?', accountId));
  if (!row) throw noSuchEntity('account', accountId, { accountId });
}

export function findUser(c: IdentityDb, accountId: string, userName: string): UserRow | undefined {
  return c.sql.get(c.db.selectFrom('iam_users').selectAll()
    .where('account_id', '=', accountId).where('user_name_lower', '=', userName.toLowerCase()));
}

/** The user's row; throws `NoSuchEntity`. */
export function requireUser(c: IdentityDb, accountId: string, userName: string): UserRow {
  const row = findUser(c, accountId, userName);
  if (!row) throw noSuchEntity('user', userName, { accountId, userName });
  return row;
}

export function findGroup(c: IdentityDb, accountId: string, groupName: string): GroupRow | undefined {
  return c.sql.get(c.db.selectFrom('iam_groups').selectAll()
    .where('account_id', '=', accountId).where('group_name_lower', '=', groupName.toLowerCase()));
}

/** The group's row; throws `NoSuchEntity`. */
export function requireGroup(c: IdentityDb, accountId: string, groupName: string): GroupRow {
  const row = findGroup(c, accountId, groupName);
  if (!row) throw noSuchEntity('group', groupName, { accountId, groupName });
  return row;
}

/** Checks the owner exists (throws `NoSuchEntity`) and returns its key columns. */
export function requireOwner(c: IdentityDb, owner: PolicyOwner): { account_id: string; owner_kind: string; owner_name_lower: string } {
  if (owner.kind === 'user') requireUser(c, owner.accountId, owner.name);
  else requireGroup(c, owner.accountId, owner.name);
  return ownerKey(owner);
}

export function ownerKey(owner: PolicyOwner): { account_id: string; owner_kind: string; owner_name_lower: string } {
  return { account_id: owner.accountId, owner_kind: owner.kind, owner_name_lower: owner.name.toLowerCase() };
}

/** `column` starts with `prefix` (no LIKE, so `%` and `_` in paths are literal). */
export function startsWith(column: string, prefix: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`substr(${sql.ref(column)}, 1, length(${prefix})) = ${prefix}`;
}

/** A page size SQLite honours: negative LIMIT would mean "no limit". */
export function limitOf(page: IamPage): number {
  return Math.max(0, Math.floor(page.maxItems));
}

/** Adds or replaces tags by key, keeping first-seen order; throws `LimitExceeded` past the quota. */
export function mergeTags(current: ResourceTag[], added: ResourceTag[]): ResourceTag[] {
  const byKey = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of added) byKey.set(t.Key, t.Value);
  if (byKey.size > MAX_USER_TAGS) throw fail('LimitExceeded', `A user can have at most ${MAX_USER_TAGS} tags.`, { tags: byKey.size });
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

export function toUser(r: UserRow): IamUser {
  return {
    accountId: r.account_id, userName: r.user_name, userId: r.user_id, path: r.path,
    createdAt: new Date(r.created_at), tags: JSON.parse(r.tags) as ResourceTag[],
  };
}

export function toGroup(r: GroupRow): IamGroup {
  return { accountId: r.account_id, groupName: r.group_name, groupId: r.group_id, path: r.path, createdAt: new Date(r.created_at) };
}

export function toKey(r: KeyRow): AccessKey {
  const k: AccessKey = {
    accessKeyId: r.access_key_id, accountId: r.account_id, userName: r.user_name, status: r.status as AccessKeyStatus,
    // A plain Uint8Array (not the driver's Buffer), so both stores return the same type.
    secretCiphertext: new Uint8Array(r.secret_ciphertext), createdAt: new Date(r.created_at),
  };
  if (r.last_used_at !== null) k.lastUsedAt = new Date(r.last_used_at);
  return k;
}

export function toPolicy(r: PolicyRow): ManagedPolicy {
  const p: ManagedPolicy = {
    accountId: r.account_id, policyName: r.policy_name, policyId: r.policy_id, path: r.path,
    defaultVersionId: r.default_version_id, createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
    attachmentCount: r.attachment_count,
  };
  if (r.description !== null) p.description = r.description;
  return p;
}

export const isAwsManaged = (arn: string): boolean => arn.startsWith('arn:aws:iam::aws:policy/');
export const versionNumber = (versionId: string): number => Number(versionId.slice(1));

export function noSuchEntity(kind: string, name: string, detail: Record<string, unknown>): BerthError {
  return fail('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`, detail);
}

export function alreadyExists(kind: string, name: string, accountId: string): BerthError {
  return fail('EntityAlreadyExists', `A ${kind} with name ${name} already exists.`, { accountId, entity: kind, name });
}

export function deleteConflict(kind: string, name: string, blocker: string): BerthError {
  return fail('DeleteConflict', `Cannot delete ${kind} ${name} while it has ${blocker}.`, { entity: kind, name, blocker });
}
