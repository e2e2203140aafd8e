import type {
  AccessKey, AccessKeyStatus, Account, EffectivePolicies, IamGroup, IamUser, ManagedPolicy, PolicyOwner, PolicyVersion, ResourceTag,
} from '../../../core/identity.js';
import type { IamPage, IdentityStore } from '../../../core/ports/identity-store.js';
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
export class PgIdentityStore implements IdentityStore {
  readonly #users;
  readonly #groups;
  readonly #attachments;
  readonly #policies;

  /** Use {@link openPostgresIdentityStore}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    const db = handle.db as unknown as Kysely<IdentitySchema>;
    this.#users = new PgIdentityUsers(db);
    this.#groups = new PgIdentityGroups(db);
    this.#attachments = new PgIdentityAttachments(db);
    this.#policies = new PgIdentityPolicies(db);
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
    return this.#users.deleteUser(accountId, userName);
  }

  async tagUser(accountId: string, userName: string, tags: ResourceTag[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#users.tagUser(accountId, userName, tags);
  }

  async untagUser(accountId: string, userName: string, keys: string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#users.untagUser(accountId, userName, keys);
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
    return this.#users.updateAccessKeyStatus(accountId, userName, accessKeyId, status);
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#users.deleteAccessKey(accountId, userName, accessKeyId);
  }

  async touchAccessKey(accessKeyId: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#users.touchAccessKey(accessKeyId, at);
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
    return this.#groups.deleteGroup(accountId, groupName);
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#groups.addUserToGroup(accountId, groupName, userName);
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#groups.removeUserFromGroup(accountId, groupName, userName);
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
    return this.#attachments.putInlinePolicy(owner, policyName, document);
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
    return this.#attachments.deleteInlinePolicy(owner, policyName);
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
    return this.#policies.deletePolicy(arn);
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
    return this.#policies.deletePolicyVersion(arn, versionId);
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#policies.setDefaultPolicyVersion(arn, versionId);
  }

  async attachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#attachments.attachPolicy(owner, arn);
  }

  async detachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.#attachments.detachPolicy(owner, arn);
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
    // Releases this store's lease; the pool ends with the process's last PostgreSQL store.
    await this.handle.close();
  }
}
