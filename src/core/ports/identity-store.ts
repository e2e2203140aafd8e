import type {
  AccessKey, AccessKeyStatus, Account, EffectivePolicies, IamGroup, IamUser, ManagedPolicy, PolicyOwner, PolicyVersion, ResourceTag,
} from '../identity.js';

/** A page request for IAM-style listing: `marker` is the last name (or id) returned before. */
export interface IamPage {
  marker?: string;
  maxItems: number;
  pathPrefix?: string;
}

/**
 * Storage of IAM entities. Every write is atomic and visible to every node when its promise
 * resolves. Names compare case-insensitively where AWS IAM does (user, group and policy names are
 * unique per account ignoring case) but are returned as created. Errors: `EntityAlreadyExists`,
 * `NoSuchEntity`, `DeleteConflict`, `LimitExceeded` (all `BerthError` codes).
 */
export interface IdentityStore {
  /** Creates the account when missing; idempotent. */
  ensureAccount(id: string, signal: AbortSignal): Promise<Account>;
  getAccount(id: string, signal: AbortSignal): Promise<Account | undefined>;

  createUser(user: IamUser, signal: AbortSignal): Promise<IamUser>;
  getUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamUser | undefined>;
  /** Users ordered by name, after `marker`, filtered by path prefix. */
  listUsers(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamUser[]>;
  /** Throws `DeleteConflict` while the user has access keys, inline or attached policies, or groups. */
  deleteUser(accountId: string, userName: string, signal: AbortSignal): Promise<void>;
  /** Adds or replaces tags by key. Throws `NoSuchEntity`, `LimitExceeded` (over 50 tags). */
  tagUser(accountId: string, userName: string, tags: ResourceTag[], signal: AbortSignal): Promise<void>;
  untagUser(accountId: string, userName: string, keys: string[], signal: AbortSignal): Promise<void>;

  /** Throws `LimitExceeded` when the user (or root) already has 2 keys, `NoSuchEntity` for an unknown user. */
  createAccessKey(key: AccessKey, signal: AbortSignal): Promise<AccessKey>;
  getAccessKey(accessKeyId: string, signal: AbortSignal): Promise<AccessKey | undefined>;
  /** Keys of a user (`userName` null: the root's), ordered by creation. */
  listAccessKeys(accountId: string, userName: string | null, signal: AbortSignal): Promise<AccessKey[]>;
  updateAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus, signal: AbortSignal): Promise<void>;
  deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string, signal: AbortSignal): Promise<void>;
  /** Records use of a key; best effort, may be coalesced. */
  touchAccessKey(accessKeyId: string, at: Date, signal: AbortSignal): Promise<void>;

  createGroup(group: IamGroup, signal: AbortSignal): Promise<IamGroup>;
  getGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<IamGroup | undefined>;
  listGroups(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamGroup[]>;
  /** Throws `DeleteConflict` while the group has members or policies. */
  deleteGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<void>;
  /** Idempotent. Throws `NoSuchEntity` for an unknown user or group. */
  addUserToGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void>;
  removeUserFromGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void>;
  listGroupMembers(accountId: string, groupName: string, signal: AbortSignal): Promise<IamUser[]>;
  listGroupsForUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamGroup[]>;

  /** Creates or replaces an inline policy. Throws `NoSuchEntity` for an unknown owner. */
  putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, signal: AbortSignal): Promise<void>;
  getInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<string | undefined>;
  listInlinePolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]>;
  deleteInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<void>;

  /** Creates a customer managed policy with version `v1` as default. */
  createPolicy(policy: ManagedPolicy, document: string, signal: AbortSignal): Promise<ManagedPolicy>;
  getPolicy(arn: string, signal: AbortSignal): Promise<ManagedPolicy | undefined>;
  listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }, signal: AbortSignal): Promise<ManagedPolicy[]>;
  /** Throws `DeleteConflict` while attached or while it has versions besides the default. */
  deletePolicy(arn: string, signal: AbortSignal): Promise<void>;
  /** Adds version `v<n+1>`; throws `LimitExceeded` at 5 versions. */
  createPolicyVersion(arn: string, document: string, setAsDefault: boolean, signal: AbortSignal): Promise<PolicyVersion>;
  getPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<PolicyVersion | undefined>;
  listPolicyVersions(arn: string, signal: AbortSignal): Promise<PolicyVersion[]>;
  /** Throws `DeleteConflict` for the default version. */
  deletePolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void>;
  setDefaultPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void>;

  /** Idempotent. AWS managed policy ARNs are accepted as they are (the caller checks they exist). */
  attachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void>;
  /** Throws `NoSuchEntity` when not attached. */
  detachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void>;
  listAttachedPolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]>;

  /** Inline documents and attached ARNs of a user and of its groups: what evaluation needs. */
  effectivePolicies(accountId: string, userName: string, signal: AbortSignal): Promise<EffectivePolicies>;
  /** The default version document of a customer managed policy, or `undefined`. */
  defaultPolicyDocument(arn: string, signal: AbortSignal): Promise<string | undefined>;

  close(): Promise<void>;
}
