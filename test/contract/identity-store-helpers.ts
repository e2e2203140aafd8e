/** Shared fixtures of the IdentityStore contract suite. */
import { policyArn, type AccessKey, type IamGroup, type IamUser, type ManagedPolicy, type PolicyOwner } from '../../src/core/identity.js';
import type { IdentityStore } from '../../src/core/ports/identity-store.js';

export { rejectsWith, signal } from './meta-store-helpers.js';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
const T0 = Date.UTC(2024, 0, 1);
let seq = 0;
const next = () => String(++seq).padStart(17, '0');

/** A live store for one test: set by the contract's beforeEach. */
export type StoreRef = () => IdentityStore;

export function user(userName: string, extra: Partial<IamUser> = {}): IamUser {
  return { accountId: ACCOUNT, userName, userId: `AIDA${next()}`, path: '/', createdAt: new Date(T0), tags: [], ...extra };
}

export function group(groupName: string, extra: Partial<IamGroup> = {}): IamGroup {
  return { accountId: ACCOUNT, groupName, groupId: `AGPA${next()}`, path: '/', createdAt: new Date(T0), ...extra };
}

/** A key whose createdAt increases with every call, so creation order is well defined. */
export function key(userName: string | null, extra: Partial<AccessKey> = {}): AccessKey {
  const n = next();
  return {
    accessKeyId: `AKIA${n}`, accountId: ACCOUNT, userName, status: 'Active',
    secretCiphertext: new Uint8Array([1, 2, 3, Number(n) % 256]), createdAt: new Date(T0 + Number(n)), ...extra,
  };
}

export function policy(policyName: string, extra: Partial<ManagedPolicy> = {}): ManagedPolicy {
  return {
    accountId: ACCOUNT, policyName, policyId: `ANPA${next()}`, path: '/', defaultVersionId: 'v1',
    createdAt: new Date(T0), updatedAt: new Date(T0), attachmentCount: 0, ...extra,
  };
}

export const arnOf = (p: ManagedPolicy): string => policyArn(p);
export const userOwner = (name: string, accountId = ACCOUNT): PolicyOwner => ({ kind: 'user', accountId, name });
export const groupOwner = (name: string, accountId = ACCOUNT): PolicyOwner => ({ kind: 'group', accountId, name });
export const doc = (label: string): string => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: label, Resource: '*' }] });
export const AWS_READONLY = 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly';

/** Names of a listing, for compact assertions. */
export const names = (items: Array<{ userName?: string; groupName?: string; policyName?: string }>): string[] =>
  items.map((i) => i.userName ?? i.groupName ?? i.policyName ?? '?');
