import { fail } from '../core/errors.js';
import {
  policyArn, type AccessKey, type AccessKeyStatus, type IamGroup, type IamUser, type ManagedPolicy, type PolicyOwner, type PolicyVersion, type ResourceTag,
} from '../core/identity.js';
import type { IamPage, IdentityStore } from '../core/ports/identity-store.js';
import type { Keyring } from '../core/ports/keyring.js';
import { awsId, newSecretAccessKey } from './ids.js';
import { MANAGED_POLICIES, parsePolicy } from './policy/index.js';
import type { PolicySource } from './policy-source.js';

/** A new access key with its secret: the only moment the secret is ever returned. */
export interface NewAccessKey {
  key: AccessKey;
  secretAccessKey: string;
}

/**
 * IAM use cases over the identity store: id generation, secret sealing, policy validation, and
 * invalidation of cached policies after every write that changes what a principal may do.
 */
export class IamService {
  constructor(
    private readonly identity: IdentityStore,
    private readonly keyring: Keyring,
    private readonly policies: PolicySource,
  ) {}

  createUser(accountId: string, userName: string, path: string, tags: ResourceTag[], signal: AbortSignal): Promise<IamUser> {
    return this.identity.createUser({ accountId, userName, path, tags, userId: awsId('AIDA', 17), createdAt: new Date() }, signal);
  }

  async requireUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamUser> {
    const user = await this.identity.getUser(accountId, userName, signal);
    if (!user) throw fail('NoSuchEntity', `The user with name ${userName} cannot be found.`);
    return user;
  }

  listUsers(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamUser[]> {
    return this.identity.listUsers(accountId, page, signal);
  }

  async deleteUser(accountId: string, userName: string, signal: AbortSignal): Promise<void> {
    await this.identity.deleteUser(accountId, userName, signal);
    this.policies.invalidate();
  }

  /** Creates a key for a user (or the root when `userName` is null), sealing the secret under the master key. */
  async createAccessKey(accountId: string, userName: string | null, signal: AbortSignal, preset?: { accessKeyId: string; secretAccessKey: string }): Promise<NewAccessKey> {
    if (userName !== null) await this.requireUser(accountId, userName, signal);
    const accessKeyId = preset?.accessKeyId ?? awsId('AKIA');
    const secretAccessKey = preset?.secretAccessKey ?? newSecretAccessKey();
    const key = await this.identity.createAccessKey({
      accessKeyId, accountId, userName, status: 'Active', createdAt: new Date(),
      secretCiphertext: this.keyring.seal(Buffer.from(secretAccessKey, 'utf8'), accessKeyId),
    }, signal);
    return { key, secretAccessKey };
  }

  listAccessKeys(accountId: string, userName: string | null, signal: AbortSignal): Promise<AccessKey[]> {
    return this.identity.listAccessKeys(accountId, userName, signal);
  }

  async updateAccessKey(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus, signal: AbortSignal): Promise<void> {
    await this.identity.updateAccessKeyStatus(accountId, userName, accessKeyId, status, signal);
    this.policies.invalidate();
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string, signal: AbortSignal): Promise<void> {
    await this.identity.deleteAccessKey(accountId, userName, accessKeyId, signal);
    this.policies.invalidate();
  }

  createGroup(accountId: string, groupName: string, path: string, signal: AbortSignal): Promise<IamGroup> {
    return this.identity.createGroup({ accountId, groupName, path, groupId: awsId('AGPA', 17), createdAt: new Date() }, signal);
  }

  async requireGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<IamGroup> {
    const group = await this.identity.getGroup(accountId, groupName, signal);
    if (!group) throw fail('NoSuchEntity', `The group with name ${groupName} cannot be found.`);
    return group;
  }

  async changeMembership(accountId: string, groupName: string, userName: string, add: boolean, signal: AbortSignal): Promise<void> {
    if (add) await this.identity.addUserToGroup(accountId, groupName, userName, signal);
    else await this.identity.removeUserFromGroup(accountId, groupName, userName, signal);
    this.policies.invalidate();
  }

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, signal: AbortSignal): Promise<void> {
    validateDocument(document);
    await this.identity.putInlinePolicy(owner, policyName, document, signal);
    this.policies.invalidate();
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<void> {
    await this.identity.deleteInlinePolicy(owner, policyName, signal);
    this.policies.invalidate();
  }

  createPolicy(accountId: string, policyName: string, path: string, document: string, description: string | undefined, signal: AbortSignal): Promise<ManagedPolicy> {
    validateDocument(document);
    const now = new Date();
    return this.identity.createPolicy({
      accountId, policyName, path, policyId: awsId('ANPA', 17), defaultVersionId: 'v1', createdAt: now, updatedAt: now, attachmentCount: 0,
      ...(description ? { description } : {}),
    }, document, signal);
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, signal: AbortSignal): Promise<PolicyVersion> {
    validateDocument(document);
    const version = await this.identity.createPolicyVersion(arn, document, setAsDefault, signal);
    if (setAsDefault) this.policies.invalidate();
    return version;
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    await this.identity.setDefaultPolicyVersion(arn, versionId, signal);
    this.policies.invalidate();
  }

  /** Attaches an AWS managed or customer managed policy; `NoSuchEntity` for an unknown ARN. */
  async attachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    if (!MANAGED_POLICIES.has(arn) && !(await this.identity.getPolicy(arn, signal))) {
      throw fail('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
    }
    await this.identity.attachPolicy(owner, arn, signal);
    this.policies.invalidate();
  }

  async detachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    await this.identity.detachPolicy(owner, arn, signal);
    this.policies.invalidate();
  }

  /** The policy (customer or AWS managed) by ARN; `NoSuchEntity` otherwise. */
  async requirePolicy(arn: string, signal: AbortSignal): Promise<ManagedPolicy & { arn: string; awsManaged: boolean }> {
    const managed = MANAGED_POLICIES.get(arn);
    if (managed) {
      const epoch = new Date('2015-12-21T17:17:00Z');
      return {
        accountId: 'aws', policyName: managed.name, policyId: awsId('ANPA', 17), path: '/', description: managed.description,
        defaultVersionId: 'v1', createdAt: epoch, updatedAt: epoch, attachmentCount: 0, arn, awsManaged: true,
      };
    }
    const policy = await this.identity.getPolicy(arn, signal);
    if (!policy) throw fail('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
    return { ...policy, arn: policyArn(policy), awsManaged: false };
  }

  // ---- Added for the IAM Query API (src/http/iam): reads and deletes the handlers need. ----

  getAccount(accountId: string, signal: AbortSignal): Promise<{ id: string; createdAt: Date } | undefined> {
    return this.identity.getAccount(accountId, signal);
  }

  getAccessKey(accessKeyId: string, signal: AbortSignal): Promise<AccessKey | undefined> {
    return this.identity.getAccessKey(accessKeyId, signal);
  }

  async tagUser(accountId: string, userName: string, tags: ResourceTag[], signal: AbortSignal): Promise<void> {
    await this.identity.tagUser(accountId, userName, tags, signal);
    // Tags can appear in policy conditions.
    this.policies.invalidate();
  }

  async untagUser(accountId: string, userName: string, keys: string[], signal: AbortSignal): Promise<void> {
    await this.identity.untagUser(accountId, userName, keys, signal);
    this.policies.invalidate();
  }

  listGroups(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamGroup[]> {
    return this.identity.listGroups(accountId, page, signal);
  }

  deleteGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<void> {
    return this.identity.deleteGroup(accountId, groupName, signal);
  }

  listGroupMembers(accountId: string, groupName: string, signal: AbortSignal): Promise<IamUser[]> {
    return this.identity.listGroupMembers(accountId, groupName, signal);
  }

  listGroupsForUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamGroup[]> {
    return this.identity.listGroupsForUser(accountId, userName, signal);
  }

  getInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<string | undefined> {
    return this.identity.getInlinePolicy(owner, policyName, signal);
  }

  listInlinePolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    return this.identity.listInlinePolicies(owner, signal);
  }

  listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }, signal: AbortSignal): Promise<ManagedPolicy[]> {
    return this.identity.listPolicies(accountId, page, signal);
  }

  /** Deleting is refused while attached, so no cached evaluation can depend on the policy. */
  deletePolicy(arn: string, signal: AbortSignal): Promise<void> {
    return this.identity.deletePolicy(arn, signal);
  }

  getPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<PolicyVersion | undefined> {
    return this.identity.getPolicyVersion(arn, versionId, signal);
  }

  listPolicyVersions(arn: string, signal: AbortSignal): Promise<PolicyVersion[]> {
    return this.identity.listPolicyVersions(arn, signal);
  }

  /** Only non-default versions can be deleted, and only the default one is evaluated. */
  deletePolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    return this.identity.deletePolicyVersion(arn, versionId, signal);
  }

  listAttachedPolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    return this.identity.listAttachedPolicies(owner, signal);
  }

  /**
   * How many users and groups of the account each built-in AWS managed policy is attached to
   * (the store counts attachments of customer policies only). Walks every user and group, which
   * is fine at the sizes a self-hosted registry's IAM has.
   */
  async awsManagedAttachmentCounts(accountId: string, signal: AbortSignal): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const count = async (owner: PolicyOwner) => {
      for (const arn of await this.identity.listAttachedPolicies(owner, signal)) {
        if (MANAGED_POLICIES.has(arn)) counts.set(arn, (counts.get(arn) ?? 0) + 1);
      }
    };
    for (let marker: string | undefined, users: IamUser[]; ; marker = users[users.length - 1]!.userName) {
      users = await this.identity.listUsers(accountId, { maxItems: 1000, ...(marker ? { marker } : {}) }, signal);
      for (const u of users) await count({ kind: 'user', accountId, name: u.userName });
      if (users.length < 1000) break;
    }
    for (let marker: string | undefined, groups: IamGroup[]; ; marker = groups[groups.length - 1]!.groupName) {
      groups = await this.identity.listGroups(accountId, { maxItems: 1000, ...(marker ? { marker } : {}) }, signal);
      for (const g of groups) await count({ kind: 'group', accountId, name: g.groupName });
      if (groups.length < 1000) break;
    }
    return counts;
  }

  // ---- end of additions for src/http/iam ----
}

/** Throws `MalformedPolicyDocument` naming what is wrong. */
export function validateDocument(document: string): void {
  const r = parsePolicy(document, 'identity');
  if ('errors' in r) throw fail('MalformedPolicyDocument', `Syntax errors in policy: ${r.errors.join('; ')}`);
}
