import type {
  AccessKey, AccessKeyStatus, Account, EffectivePolicies, IamGroup, IamUser, ManagedPolicy, PolicyOwner, PolicyVersion, ResourceTag,
} from '../../core/identity.js';
import type { IamPage, IdentityStore } from '../../core/ports/identity-store.js';

/** A port method's parameters without the trailing signal. */
type WithoutSignal<P> = P extends [...infer H, AbortSignal] ? H : never;

/**
 * One part of an identity store: the port's methods `K` without their signal, answering directly
 * (SQLite runs synchronously) or with a promise (PostgreSQL).
 */
export type IdentityPart<K extends keyof IdentityStore> = {
  [M in K]: (...args: WithoutSignal<Parameters<IdentityStore[M]>>) => Awaited<ReturnType<IdentityStore[M]>> | ReturnType<IdentityStore[M]>;
};

/** The four parts an identity store is split into, by concern. */
export interface IdentityParts {
  users: IdentityPart<'createAccessKey' | 'createUser' | 'deleteAccessKey' | 'deleteUser' | 'ensureAccount' | 'getAccessKey' | 'getAccount' | 'getUser' | 'listAccessKeys' | 'listUsers' | 'tagUser' | 'touchAccessKey' | 'untagUser' | 'updateAccessKeyStatus'>;
  groups: IdentityPart<'addUserToGroup' | 'createGroup' | 'deleteGroup' | 'getGroup' | 'listGroupMembers' | 'listGroups' | 'listGroupsForUser' | 'removeUserFromGroup'>;
  attachments: IdentityPart<'attachPolicy' | 'deleteInlinePolicy' | 'detachPolicy' | 'effectivePolicies' | 'getInlinePolicy' | 'listAttachedPolicies' | 'listInlinePolicies' | 'putInlinePolicy'>;
  policies: IdentityPart<'createPolicy' | 'createPolicyVersion' | 'defaultPolicyDocument' | 'deletePolicy' | 'deletePolicyVersion' | 'getPolicy' | 'getPolicyVersion' | 'listPolicies' | 'listPolicyVersions' | 'setDefaultPolicyVersion'>;
}

/**
 * The {@link IdentityStore} port over its four parts, written once for every backend: each method
 * checks the signal (the parts run to completion once started) and hands over to its part.
 */
export abstract class PartitionedIdentityStore implements IdentityStore {
  constructor(protected readonly parts: IdentityParts) {}

  async ensureAccount(id: string, signal: AbortSignal): Promise<Account> {
    signal.throwIfAborted();
    return this.parts.users.ensureAccount(id);
  }

  async getAccount(id: string, signal: AbortSignal): Promise<Account | undefined> {
    signal.throwIfAborted();
    return this.parts.users.getAccount(id);
  }

  async createUser(user: IamUser, signal: AbortSignal): Promise<IamUser> {
    signal.throwIfAborted();
    return this.parts.users.createUser(user);
  }

  async getUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamUser | undefined> {
    signal.throwIfAborted();
    return this.parts.users.getUser(accountId, userName);
  }

  async listUsers(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamUser[]> {
    signal.throwIfAborted();
    return this.parts.users.listUsers(accountId, page);
  }

  async deleteUser(accountId: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.users.deleteUser(accountId, userName);
  }

  async tagUser(accountId: string, userName: string, tags: ResourceTag[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.users.tagUser(accountId, userName, tags);
  }

  async untagUser(accountId: string, userName: string, keys: string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.users.untagUser(accountId, userName, keys);
  }

  async createAccessKey(key: AccessKey, signal: AbortSignal): Promise<AccessKey> {
    signal.throwIfAborted();
    return this.parts.users.createAccessKey(key);
  }

  async getAccessKey(accessKeyId: string, signal: AbortSignal): Promise<AccessKey | undefined> {
    signal.throwIfAborted();
    return this.parts.users.getAccessKey(accessKeyId);
  }

  async listAccessKeys(accountId: string, userName: string | null, signal: AbortSignal): Promise<AccessKey[]> {
    signal.throwIfAborted();
    return this.parts.users.listAccessKeys(accountId, userName);
  }

  async updateAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.users.updateAccessKeyStatus(accountId, userName, accessKeyId, status);
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.users.deleteAccessKey(accountId, userName, accessKeyId);
  }

  async touchAccessKey(accessKeyId: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.users.touchAccessKey(accessKeyId, at);
  }

  async createGroup(group: IamGroup, signal: AbortSignal): Promise<IamGroup> {
    signal.throwIfAborted();
    return this.parts.groups.createGroup(group);
  }

  async getGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<IamGroup | undefined> {
    signal.throwIfAborted();
    return this.parts.groups.getGroup(accountId, groupName);
  }

  async listGroups(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamGroup[]> {
    signal.throwIfAborted();
    return this.parts.groups.listGroups(accountId, page);
  }

  async deleteGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.groups.deleteGroup(accountId, groupName);
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.groups.addUserToGroup(accountId, groupName, userName);
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.groups.removeUserFromGroup(accountId, groupName, userName);
  }

  async listGroupMembers(accountId: string, groupName: string, signal: AbortSignal): Promise<IamUser[]> {
    signal.throwIfAborted();
    return this.parts.groups.listGroupMembers(accountId, groupName);
  }

  async listGroupsForUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamGroup[]> {
    signal.throwIfAborted();
    return this.parts.groups.listGroupsForUser(accountId, userName);
  }

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.attachments.putInlinePolicy(owner, policyName, document);
  }

  async getInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.parts.attachments.getInlinePolicy(owner, policyName);
  }

  async listInlinePolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return this.parts.attachments.listInlinePolicies(owner);
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.attachments.deleteInlinePolicy(owner, policyName);
  }

  async createPolicy(policy: ManagedPolicy, document: string, signal: AbortSignal): Promise<ManagedPolicy> {
    signal.throwIfAborted();
    return this.parts.policies.createPolicy(policy, document);
  }

  async getPolicy(arn: string, signal: AbortSignal): Promise<ManagedPolicy | undefined> {
    signal.throwIfAborted();
    return this.parts.policies.getPolicy(arn);
  }

  async listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }, signal: AbortSignal): Promise<ManagedPolicy[]> {
    signal.throwIfAborted();
    return this.parts.policies.listPolicies(accountId, page);
  }

  async deletePolicy(arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.policies.deletePolicy(arn);
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, signal: AbortSignal): Promise<PolicyVersion> {
    signal.throwIfAborted();
    return this.parts.policies.createPolicyVersion(arn, document, setAsDefault);
  }

  async getPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<PolicyVersion | undefined> {
    signal.throwIfAborted();
    return this.parts.policies.getPolicyVersion(arn, versionId);
  }

  async listPolicyVersions(arn: string, signal: AbortSignal): Promise<PolicyVersion[]> {
    signal.throwIfAborted();
    return this.parts.policies.listPolicyVersions(arn);
  }

  async deletePolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.policies.deletePolicyVersion(arn, versionId);
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.policies.setDefaultPolicyVersion(arn, versionId);
  }

  async attachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.attachments.attachPolicy(owner, arn);
  }

  async detachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return this.parts.attachments.detachPolicy(owner, arn);
  }

  async listAttachedPolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    return this.parts.attachments.listAttachedPolicies(owner);
  }

  async effectivePolicies(accountId: string, userName: string, signal: AbortSignal): Promise<EffectivePolicies> {
    signal.throwIfAborted();
    return this.parts.attachments.effectivePolicies(accountId, userName);
  }

  async defaultPolicyDocument(arn: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    return this.parts.policies.defaultPolicyDocument(arn);
  }

  abstract close(): Promise<void>;
}
