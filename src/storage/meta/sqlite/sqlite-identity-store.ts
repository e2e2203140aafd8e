import type { Kysely } from 'kysely';
import type {
  AccessKey, AccessKeyStatus, Account, EffectivePolicies, IamGroup, IamUser, ManagedPolicy, PolicyOwner, PolicyVersion, ResourceTag,
} from '../../../core/identity.js';
import type { IamPage, IdentityStore } from '../../../core/ports/identity-store.js';
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
export class SqliteIdentityStore implements IdentityStore {
  readonly #users;
  readonly #groups;
  readonly #attachments;
  readonly #policies;

  /** Use {@link openSqliteIdentityStore}, which migrates first. */
  constructor(private readonly db: Kysely<IdentitySchema>, sql: Statements) {
    const c = { db, sql };
    this.#users = new SqliteIdentityUsers(c);
    this.#groups = new SqliteIdentityGroups(c);
    this.#attachments = new SqliteIdentityAttachments(c);
    this.#policies = new SqliteIdentityPolicies(c);
  }

  async ensureAccount(id: string, signal: AbortSignal): Promise<Account> {
    signal.throwIfAborted();
    return this.#users.ensureAccount(id);
  }

  async getAccount(id: string, signal: AbortSignal): Promise<Account | undefined> {
    signal.throwIfAborted();
    return this.#users.getAccount(id);
  }

  async createUser(user: IamUser, signal: AbortSignal): Promise<IamUser> {
    signal.throwIfAborted();
    return this.#users.createUser(user);
  }

  async getUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamUser | undefined> {
    signal.throwIfAborted();
    return this.#users.getUser(accountId, userName);
  }

  async listUsers(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamUser[]> {
    signal.throwIfAborted();
    return this.#users.listUsers(accountId, page);
  }

  async deleteUser(accountId: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#users.deleteUser(accountId, userName);
  }

  async tagUser(accountId: string, userName: string, tags: ResourceTag[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#users.tagUser(accountId, userName, tags);
  }

  async untagUser(accountId: string, userName: string, keys: string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#users.untagUser(accountId, userName, keys);
  }

  async createAccessKey(key: AccessKey, signal: AbortSignal): Promise<AccessKey> {
    signal.throwIfAborted();
    return this.#users.createAccessKey(key);
  }

  async getAccessKey(accessKeyId: string, signal: AbortSignal): Promise<AccessKey | undefined> {
    signal.throwIfAborted();
    return this.#users.getAccessKey(accessKeyId);
  }

  async listAccessKeys(accountId: string, userName: string | null, signal: AbortSignal): Promise<AccessKey[]> {
    signal.throwIfAborted();
    return this.#users.listAccessKeys(accountId, userName);
  }

  async updateAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#users.updateAccessKeyStatus(accountId, userName, accessKeyId, status);
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#users.deleteAccessKey(accountId, userName, accessKeyId);
  }

  async touchAccessKey(accessKeyId: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#users.touchAccessKey(accessKeyId, at);
  }

  async createGroup(group: IamGroup, signal: AbortSignal): Promise<IamGroup> {
    signal.throwIfAborted();
    return this.#groups.createGroup(group);
  }

  async getGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<IamGroup | undefined> {
    signal.throwIfAborted();
    return this.#groups.getGroup(accountId, groupName);
  }

  async listGroups(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamGroup[]> {
    signal.throwIfAborted();
    return this.#groups.listGroups(accountId, page);
  }

  async deleteGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#groups.deleteGroup(accountId, groupName);
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#groups.addUserToGroup(accountId, groupName, userName);
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#groups.removeUserFromGroup(accountId, groupName, userName);
  }

  async listGroupMembers(accountId: string, groupName: string, signal: AbortSignal): Promise<IamUser[]> {
    signal.throwIfAborted();
    return this.#groups.listGroupMembers(accountId, groupName);
  }

  async listGroupsForUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamGroup[]> {
    signal.throwIfAborted();
    return this.#groups.listGroupsForUser(accountId, userName);
  }

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#attachments.putInlinePolicy(owner, policyName, document);
  }

  async getInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.#attachments.getInlinePolicy(owner, policyName);
  }

  async listInlinePolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return this.#attachments.listInlinePolicies(owner);
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#attachments.deleteInlinePolicy(owner, policyName);
  }

  async createPolicy(policy: ManagedPolicy, document: string, signal: AbortSignal): Promise<ManagedPolicy> {
    signal.throwIfAborted();
    return this.#policies.createPolicy(policy, document);
  }

  async getPolicy(arn: string, signal: AbortSignal): Promise<ManagedPolicy | undefined> {
    signal.throwIfAborted();
    return this.#policies.getPolicy(arn);
  }

  async listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }, signal: AbortSignal): Promise<ManagedPolicy[]> {
    signal.throwIfAborted();
    return this.#policies.listPolicies(accountId, page);
  }

  async deletePolicy(arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#policies.deletePolicy(arn);
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, signal: AbortSignal): Promise<PolicyVersion> {
    signal.throwIfAborted();
    return this.#policies.createPolicyVersion(arn, document, setAsDefault);
  }

  async getPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<PolicyVersion | undefined> {
    signal.throwIfAborted();
    return this.#policies.getPolicyVersion(arn, versionId);
  }

  async listPolicyVersions(arn: string, signal: AbortSignal): Promise<PolicyVersion[]> {
    signal.throwIfAborted();
    return this.#policies.listPolicyVersions(arn);
  }

  async deletePolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#policies.deletePolicyVersion(arn, versionId);
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#policies.setDefaultPolicyVersion(arn, versionId);
  }

  async attachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#attachments.attachPolicy(owner, arn);
  }

  async detachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#attachments.detachPolicy(owner, arn);
  }

  async listAttachedPolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return this.#attachments.listAttachedPolicies(owner);
  }

  async effectivePolicies(accountId: string, userName: string, signal: AbortSignal): Promise<EffectivePolicies> {
    signal.throwIfAborted();
    return this.#attachments.effectivePolicies(accountId, userName);
  }

  async defaultPolicyDocument(arn: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.#policies.defaultPolicyDocument(arn);
  }

  async close(): Promise<void> {
    // Every call runs to completion synchronously, so nothing is pending here; this closes the file.
    await this.db.destroy();
  }
}
