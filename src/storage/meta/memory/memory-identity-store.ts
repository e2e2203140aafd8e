import { fail, type BerthError } from '../../../core/errors.js';
import {
  policyArn, type AccessKey, type AccessKeyStatus, type Account, type EffectivePolicies, type IamGroup, type IamUser,
  type ManagedPolicy, type PolicyOwner, type PolicyVersion, type ResourceTag,
} from '../../../core/identity.js';
import type { IamPage, IdentityStore } from '../../../core/ports/identity-store.js';
import { compareBytes } from './memory-meta-store.js';

// AWS IAM quotas the store enforces (the SQLite store enforces the same).
const MAX_ACCESS_KEYS = 2;
const MAX_POLICY_VERSIONS = 5;
const MAX_USER_TAGS = 50;
/** touchAccessKey skips a write when the recorded use is more recent than this. */
const TOUCH_COALESCE_MS = 60_000;

interface AccountState {
  createdAt: number;
  /** Keyed by lower-cased name, as every name map below. */
  users: Map<string, IamUser>;
  groups: Map<string, IamGroup>;
  /** group → member users. */
  members: Map<string, Set<string>>;
  /** `kind:name` of the owner → policy name → document. */
  inline: Map<string, Map<string, string>>;
  /** `kind:name` of the owner → attached policy ARNs. */
  attached: Map<string, Set<string>>;
}

interface StoredPolicy {
  policy: ManagedPolicy;
  versions: Map<string, { document: string; createdAt: number }>;
  /** Highest version number issued, so numbers are never reused. */
  counter: number;
}

/**
 * {@link IdentityStore} in process memory, for tests and throwaway runs. Every method works
 * synchronously (so it is atomic) and copies values in and out. Lists are ordered by the
 * lower-cased name in UTF-8 byte order, as the SQL stores order them.
 */
export class MemoryIdentityStore implements IdentityStore {
  readonly #accounts = new Map<string, AccountState>();
  readonly #keys = new Map<string, AccessKey>();
  /** Customer managed policies by ARN. */
  readonly #policies = new Map<string, StoredPolicy>();
  readonly #ids = { user: new Set<string>(), group: new Set<string>(), policy: new Set<string>() };

  async ensureAccount(id: string, signal: AbortSignal): Promise<Account> {
    signal.throwIfAborted();
    let a = this.#accounts.get(id);
    if (!a) {
      a = { createdAt: Date.now(), users: new Map(), groups: new Map(), members: new Map(), inline: new Map(), attached: new Map() };
      this.#accounts.set(id, a);
    }
    return { id, createdAt: new Date(a.createdAt) };
  }

  async getAccount(id: string, signal: AbortSignal): Promise<Account | undefined> {
    signal.throwIfAborted();
    const a = this.#accounts.get(id);
    return a && { id, createdAt: new Date(a.createdAt) };
  }

  async createUser(user: IamUser, signal: AbortSignal): Promise<IamUser> {
    signal.throwIfAborted();
    const a = this.#account(user.accountId);
    if (a.users.has(user.userName.toLowerCase())) throw alreadyExists('user', user.userName, user.accountId);
    if (this.#ids.user.has(user.userId)) throw fail('EntityAlreadyExists', 'user id already in use', { userId: user.userId });
    const stored = copyUser({ ...user, tags: mergeTags([], user.tags) });
    a.users.set(user.userName.toLowerCase(), stored);
    this.#ids.user.add(user.userId);
    return copyUser(stored);
  }

  async getUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamUser | undefined> {
    signal.throwIfAborted();
    const u = this.#accounts.get(accountId)?.users.get(userName.toLowerCase());
    return u && copyUser(u);
  }

  async listUsers(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamUser[]> {
    signal.throwIfAborted();
    return paginate(this.#accounts.get(accountId)?.users, page).map(copyUser);
  }

  async deleteUser(accountId: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { a, lower, user } = this.#user(accountId, userName);
    const key = `user:${lower}`;
    const conflict =
      [...this.#keys.values()].some((k) => k.accountId === accountId && k.userName?.toLowerCase() === lower) ? 'access keys'
        : a.inline.get(key)?.size ? 'inline policies'
          : a.attached.get(key)?.size ? 'attached policies'
            : [...a.members.values()].some((m) => m.has(lower)) ? 'group memberships' : undefined;
    if (conflict) throw deleteConflict('user', user.userName, conflict);
    a.users.delete(lower);
    this.#ids.user.delete(user.userId);
  }

  async tagUser(accountId: string, userName: string, tags: ResourceTag[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { user } = this.#user(accountId, userName);
    user.tags = mergeTags(user.tags, tags);
  }

  async untagUser(accountId: string, userName: string, keys: string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { user } = this.#user(accountId, userName);
    user.tags = user.tags.filter((t) => !keys.includes(t.Key));
  }

  async createAccessKey(key: AccessKey, signal: AbortSignal): Promise<AccessKey> {
    signal.throwIfAborted();
    this.#account(key.accountId);
    const userName = key.userName === null ? null : this.#user(key.accountId, key.userName).user.userName;
    if (this.#keys.has(key.accessKeyId)) throw fail('EntityAlreadyExists', 'access key id already in use', { accessKeyId: key.accessKeyId });
    if (this.#keysOf(key.accountId, userName).length >= MAX_ACCESS_KEYS) throw tooManyKeys(key.accountId, userName);
    const stored = copyKey({ ...key, userName });
    this.#keys.set(key.accessKeyId, stored);
    return copyKey(stored);
  }

  async getAccessKey(accessKeyId: string, signal: AbortSignal): Promise<AccessKey | undefined> {
    signal.throwIfAborted();
    const k = this.#keys.get(accessKeyId);
    return k && copyKey(k);
  }

  async listAccessKeys(accountId: string, userName: string | null, signal: AbortSignal): Promise<AccessKey[]> {
    signal.throwIfAborted();
    const name = userName === null ? null : this.#user(accountId, userName).user.userName;
    return this.#keysOf(accountId, name)
      .sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || compareBytes(x.accessKeyId, y.accessKeyId))
      .map(copyKey);
  }

  async updateAccessKeyStatus(accountId: string, userName: string | null, accessKeyId: string, status: AccessKeyStatus, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#ownedKey(accountId, userName, accessKeyId).status = status;
  }

  async deleteAccessKey(accountId: string, userName: string | null, accessKeyId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#ownedKey(accountId, userName, accessKeyId);
    this.#keys.delete(accessKeyId);
  }

  async touchAccessKey(accessKeyId: string, at: Date, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const k = this.#keys.get(accessKeyId);
    if (k && (k.lastUsedAt === undefined || at.getTime() - k.lastUsedAt.getTime() >= TOUCH_COALESCE_MS)) k.lastUsedAt = new Date(at);
  }

  async createGroup(group: IamGroup, signal: AbortSignal): Promise<IamGroup> {
    signal.throwIfAborted();
    const a = this.#account(group.accountId);
    if (a.groups.has(group.groupName.toLowerCase())) throw alreadyExists('group', group.groupName, group.accountId);
    if (this.#ids.group.has(group.groupId)) throw fail('EntityAlreadyExists', 'group id already in use', { groupId: group.groupId });
    a.groups.set(group.groupName.toLowerCase(), copyGroup(group));
    this.#ids.group.add(group.groupId);
    return copyGroup(group);
  }

  async getGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<IamGroup | undefined> {
    signal.throwIfAborted();
    const g = this.#accounts.get(accountId)?.groups.get(groupName.toLowerCase());
    return g && copyGroup(g);
  }

  async listGroups(accountId: string, page: IamPage, signal: AbortSignal): Promise<IamGroup[]> {
    signal.throwIfAborted();
    return paginate(this.#accounts.get(accountId)?.groups, page).map(copyGroup);
  }

  async deleteGroup(accountId: string, groupName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { a, lower, group } = this.#group(accountId, groupName);
    const key = `group:${lower}`;
    const conflict = a.members.get(lower)?.size ? 'members'
      : a.inline.get(key)?.size ? 'inline policies'
        : a.attached.get(key)?.size ? 'attached policies' : undefined;
    if (conflict) throw deleteConflict('group', group.groupName, conflict);
    a.groups.delete(lower);
    a.members.delete(lower);
    this.#ids.group.delete(group.groupId);
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const g = this.#group(accountId, groupName);
    const u = this.#user(accountId, userName);
    getOrInit(g.a.members, g.lower, () => new Set<string>()).add(u.lower);
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const g = this.#group(accountId, groupName);
    const u = this.#user(accountId, userName);
    g.a.members.get(g.lower)?.delete(u.lower);
  }

  async listGroupMembers(accountId: string, groupName: string, signal: AbortSignal): Promise<IamUser[]> {
    signal.throwIfAborted();
    const { a, lower } = this.#group(accountId, groupName);
    return [...(a.members.get(lower) ?? [])].sort(compareBytes).map((u) => copyUser(a.users.get(u)!));
  }

  async listGroupsForUser(accountId: string, userName: string, signal: AbortSignal): Promise<IamGroup[]> {
    signal.throwIfAborted();
    return this.#groupsOf(this.#user(accountId, userName)).map(copyGroup);
  }

  async putInlinePolicy(owner: PolicyOwner, policyName: string, document: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { a, key } = this.#owner(owner);
    getOrInit(a.inline, key, () => new Map<string, string>()).set(policyName, document);
  }

  async getInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    const key = `${owner.kind}:${owner.name.toLowerCase()}`;
    return this.#accounts.get(owner.accountId)?.inline.get(key)?.get(policyName);
  }

  async listInlinePolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    const { a, key } = this.#owner(owner);
    return [...(a.inline.get(key)?.keys() ?? [])].sort(compareBytes);
  }

  async deleteInlinePolicy(owner: PolicyOwner, policyName: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { a, key } = this.#owner(owner);
    if (!a.inline.get(key)?.delete(policyName)) throw noSuchEntity('policy', policyName, { ...owner });
  }

  async createPolicy(policy: ManagedPolicy, document: string, signal: AbortSignal): Promise<ManagedPolicy> {
    signal.throwIfAborted();
    this.#account(policy.accountId);
    const arn = policyArn(policy);
    const lower = policy.policyName.toLowerCase();
    for (const p of this.#policies.values()) {
      if (p.policy.accountId === policy.accountId && p.policy.policyName.toLowerCase() === lower) {
        throw alreadyExists('policy', policy.policyName, policy.accountId);
      }
    }
    if (this.#ids.policy.has(policy.policyId)) throw fail('EntityAlreadyExists', 'policy id already in use', { policyId: policy.policyId });
    const stored = copyPolicy({ ...policy, defaultVersionId: 'v1', attachmentCount: 0 });
    this.#policies.set(arn, { policy: stored, versions: new Map([['v1', { document, createdAt: policy.createdAt.getTime() }]]), counter: 1 });
    this.#ids.policy.add(policy.policyId);
    return copyPolicy(stored);
  }

  async getPolicy(arn: string, signal: AbortSignal): Promise<ManagedPolicy | undefined> {
    signal.throwIfAborted();
    const p = this.#policies.get(arn);
    return p && copyPolicy(p.policy);
  }

  async listPolicies(accountId: string, page: IamPage & { onlyAttached?: boolean }, signal: AbortSignal): Promise<ManagedPolicy[]> {
    signal.throwIfAborted();
    const mine = new Map<string, ManagedPolicy>();
    for (const { policy: p } of this.#policies.values()) {
      if (p.accountId === accountId && (!page.onlyAttached || p.attachmentCount > 0)) mine.set(p.policyName.toLowerCase(), p);
    }
    return paginate(mine, page).map(copyPolicy);
  }

  async deletePolicy(arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const p = this.#policy(arn);
    if (p.policy.attachmentCount > 0) throw deleteConflict('policy', p.policy.policyName, 'attachments');
    if (p.versions.size > 1) throw deleteConflict('policy', p.policy.policyName, 'non-default versions');
    this.#policies.delete(arn);
    this.#ids.policy.delete(p.policy.policyId);
  }

  async createPolicyVersion(arn: string, document: string, setAsDefault: boolean, signal: AbortSignal): Promise<PolicyVersion> {
    signal.throwIfAborted();
    const p = this.#policy(arn);
    if (p.versions.size >= MAX_POLICY_VERSIONS) {
      throw fail('LimitExceeded', `A managed policy can have at most ${MAX_POLICY_VERSIONS} versions.`, { arn });
    }
    const versionId = `v${++p.counter}`;
    const createdAt = Date.now();
    p.versions.set(versionId, { document, createdAt });
    p.policy.updatedAt = new Date(createdAt);
    if (setAsDefault) p.policy.defaultVersionId = versionId;
    return { versionId, document, isDefaultVersion: setAsDefault, createdAt: new Date(createdAt) };
  }

  async getPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<PolicyVersion | undefined> {
    signal.throwIfAborted();
    const p = this.#policies.get(arn);
    const v = p?.versions.get(versionId);
    return p && v && toVersion(p, versionId, v);
  }

  async listPolicyVersions(arn: string, signal: AbortSignal): Promise<PolicyVersion[]> {
    signal.throwIfAborted();
    const p = this.#policy(arn);
    return [...p.versions].sort(([x], [y]) => versionNumber(x) - versionNumber(y)).map(([id, v]) => toVersion(p, id, v));
  }

  async deletePolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const p = this.#version(arn, versionId);
    if (p.policy.defaultVersionId === versionId) throw fail('DeleteConflict', 'Cannot delete the default version of a policy.', { arn, versionId });
    p.versions.delete(versionId);
  }

  async setDefaultPolicyVersion(arn: string, versionId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#version(arn, versionId).policy.defaultVersionId = versionId;
  }

  async attachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { a, key } = this.#owner(owner);
    const customer = this.#policies.get(arn);
    if (!isAwsManaged(arn) && customer?.policy.accountId !== owner.accountId) throw noSuchEntity('policy', arn, { arn });
    const set = getOrInit(a.attached, key, () => new Set<string>());
    if (set.has(arn)) return;
    set.add(arn);
    if (customer) customer.policy.attachmentCount++;
  }

  async detachPolicy(owner: PolicyOwner, arn: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { a, key } = this.#owner(owner);
    if (!a.attached.get(key)?.delete(arn)) throw noSuchEntity('attachment', arn, { arn, ...owner });
    const customer = this.#policies.get(arn);
    if (customer) customer.policy.attachmentCount--;
  }

  async listAttachedPolicies(owner: PolicyOwner, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    const { a, key } = this.#owner(owner);
    return [...(a.attached.get(key) ?? [])].sort(compareBytes);
  }

  async effectivePolicies(accountId: string, userName: string, signal: AbortSignal): Promise<EffectivePolicies> {
    signal.throwIfAborted();
    const u = this.#user(accountId, userName);
    const owners = [`user:${u.lower}`, ...this.#groupsOf(u).map((g) => `group:${g.groupName.toLowerCase()}`)];
    const inline = owners.flatMap((o) => [...(u.a.inline.get(o) ?? [])].sort(([x], [y]) => compareBytes(x, y)).map(([, d]) => d));
    const attached = new Set(owners.flatMap((o) => [...(u.a.attached.get(o) ?? [])].sort(compareBytes)));
    return { inline, attached: [...attached] };
  }

  async defaultPolicyDocument(arn: string, signal: AbortSignal): Promise<string | undefined> {
    signal.throwIfAborted();
    const p = this.#policies.get(arn);
    return p?.versions.get(p.policy.defaultVersionId)?.document;
  }

  async close(): Promise<void> {}

  #account(id: string): AccountState {
    const a = this.#accounts.get(id);
    if (!a) throw noSuchEntity('account', id, { accountId: id });
    return a;
  }

  #user(accountId: string, userName: string) {
    const a = this.#account(accountId);
    const lower = userName.toLowerCase();
    const user = a.users.get(lower);
    if (!user) throw noSuchEntity('user', userName, { accountId, userName });
    return { a, lower, user };
  }

  #group(accountId: string, groupName: string) {
    const a = this.#account(accountId);
    const lower = groupName.toLowerCase();
    const group = a.groups.get(lower);
    if (!group) throw noSuchEntity('group', groupName, { accountId, groupName });
    return { a, lower, group };
  }

  #owner(owner: PolicyOwner): { a: AccountState; key: string } {
    const { a, lower } = owner.kind === 'user' ? this.#user(owner.accountId, owner.name) : this.#group(owner.accountId, owner.name);
    return { a, key: `${owner.kind}:${lower}` };
  }

  #groupsOf({ a, lower }: { a: AccountState; lower: string }): IamGroup[] {
    return [...a.members].filter(([, m]) => m.has(lower)).map(([g]) => g).sort(compareBytes).map((g) => a.groups.get(g)!);
  }

  #keysOf(accountId: string, userName: string | null): AccessKey[] {
    return [...this.#keys.values()].filter((k) => k.accountId === accountId && k.userName === userName);
  }

  #ownedKey(accountId: string, userName: string | null, accessKeyId: string): AccessKey {
    const owner = userName === null ? null : this.#user(accountId, userName).user.userName;
    const k = this.#keys.get(accessKeyId);
    if (!k || k.accountId !== accountId || k.userName !== owner) throw noSuchEntity('access key', accessKeyId, { accessKeyId });
    return k;
  }

  #policy(arn: string): StoredPolicy {
    const p = this.#policies.get(arn);
    if (!p) throw noSuchEntity('policy', arn, { arn });
    return p;
  }

  #version(arn: string, versionId: string): StoredPolicy {
    const p = this.#policy(arn);
    if (!p.versions.has(versionId)) throw noSuchEntity('policy version', versionId, { arn, versionId });
    return p;
  }
}

function paginate<T extends { path: string }>(byLower: Map<string, T> | undefined, page: IamPage): T[] {
  const marker = page.marker?.toLowerCase();
  return [...(byLower ?? [])]
    .filter(([lower, x]) => (marker === undefined || compareBytes(lower, marker) > 0)
      && (page.pathPrefix === undefined || x.path.startsWith(page.pathPrefix)))
    .sort(([x], [y]) => compareBytes(x, y))
    .slice(0, Math.max(0, Math.floor(page.maxItems)))
    .map(([, x]) => x);
}

/** Adds or replaces tags by key, keeping first-seen order; throws `LimitExceeded` past the quota. */
function mergeTags(current: ResourceTag[], added: ResourceTag[]): ResourceTag[] {
  const byKey = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of added) byKey.set(t.Key, t.Value);
  if (byKey.size > MAX_USER_TAGS) throw fail('LimitExceeded', `A user can have at most ${MAX_USER_TAGS} tags.`, { tags: byKey.size });
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

function getOrInit<K, V>(map: Map<K, V>, key: K, init: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = init()));
  return v;
}

const isAwsManaged = (arn: string) => arn.startsWith('arn:aws:iam::aws:policy/');
const versionNumber = (versionId: string) => Number(versionId.slice(1));

function toVersion(p: StoredPolicy, versionId: string, v: { document: string; createdAt: number }): PolicyVersion {
  return { versionId, document: v.document, isDefaultVersion: p.policy.defaultVersionId === versionId, createdAt: new Date(v.createdAt) };
}

function copyUser(u: IamUser): IamUser {
  return { ...u, createdAt: new Date(u.createdAt), tags: u.tags.map((t) => ({ ...t })) };
}

function copyGroup(g: IamGroup): IamGroup {
  return { ...g, createdAt: new Date(g.createdAt) };
}

function copyKey(k: AccessKey): AccessKey {
  const c: AccessKey = { ...k, secretCiphertext: new Uint8Array(k.secretCiphertext), createdAt: new Date(k.createdAt) };
  if (k.lastUsedAt === undefined) delete c.lastUsedAt;
  else c.lastUsedAt = new Date(k.lastUsedAt);
  return c;
}

function copyPolicy(p: ManagedPolicy): ManagedPolicy {
  const c: ManagedPolicy = { ...p, createdAt: new Date(p.createdAt), updatedAt: new Date(p.updatedAt) };
  if (p.description === undefined) delete c.description;
  return c;
}

function noSuchEntity(kind: string, name: string, detail: Record<string, unknown>): BerthError {
  return fail('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`, detail);
}

function alreadyExists(kind: string, name: string, accountId: string): BerthError {
  return fail('EntityAlreadyExists', `A ${kind} with name ${name} already exists.`, { accountId, entity: kind, name });
}

function deleteConflict(kind: string, name: string, blocker: string): BerthError {
  return fail('DeleteConflict', `Cannot delete ${kind} ${name} while it has ${blocker}.`, { entity: kind, name, blocker });
}

function tooManyKeys(accountId: string, userName: string | null): BerthError {
  return fail('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS}`, { accountId, userName });
}
