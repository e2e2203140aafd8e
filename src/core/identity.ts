/** IAM entities of berth's built-in identity service (a subset of AWS IAM). */

export interface ResourceTag {
  Key: string;
  Value: string;
}

export interface Account {
  /** 12 digits. */
  id: string;
  createdAt: Date;
}

export interface IamUser {
  accountId: string;
  userName: string;
  /** `AIDA…`, stable for the user's lifetime. */
  userId: string;
  path: string;
  createdAt: Date;
  tags: ResourceTag[];
}

export type AccessKeyStatus = 'Active' | 'Inactive';

/**
 * An access key. The secret is kept only as ciphertext under the server's master key (SigV4 needs
 * the secret itself, so it cannot be hashed); `userName` is `null` for the account root's key.
 */
export interface AccessKey {
  accessKeyId: string;
  accountId: string;
  userName: string | null;
  status: AccessKeyStatus;
  secretCiphertext: Uint8Array;
  createdAt: Date;
  lastUsedAt?: Date;
}

export interface IamGroup {
  accountId: string;
  groupName: string;
  /** `AGPA…`. */
  groupId: string;
  path: string;
  createdAt: Date;
}

/** A customer managed policy (AWS managed policies are built in, not stored). */
export interface ManagedPolicy {
  accountId: string;
  policyName: string;
  /** `ANPA…`. */
  policyId: string;
  path: string;
  description?: string;
  defaultVersionId: string;
  createdAt: Date;
  updatedAt: Date;
  attachmentCount: number;
}

export interface PolicyVersion {
  versionId: string;
  document: string;
  isDefaultVersion: boolean;
  createdAt: Date;
}

/** Who an inline policy or attachment belongs to. */
export interface PolicyOwner {
  kind: 'user' | 'group';
  accountId: string;
  name: string;
}

/** Every policy that applies to a user, directly or through groups, for evaluation. */
export interface EffectivePolicies {
  /** Inline policy documents (user's and its groups'). */
  inline: string[];
  /** ARNs of attached managed policies (customer and AWS), deduplicated. */
  attached: string[];
}

export function userArn(u: Pick<IamUser, 'accountId' | 'path' | 'userName'>): string {
  return `arn:aws:iam::${u.accountId}:user${u.path}${u.userName}`;
}

export function groupArn(g: Pick<IamGroup, 'accountId' | 'path' | 'groupName'>): string {
  return `arn:aws:iam::${g.accountId}:group${g.path}${g.groupName}`;
}

export function policyArn(p: Pick<ManagedPolicy, 'accountId' | 'path' | 'policyName'>): string {
  return `arn:aws:iam::${p.accountId}:policy${p.path}${p.policyName}`;
}

export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}
