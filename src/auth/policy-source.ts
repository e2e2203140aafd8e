import type { IdentityStore } from '../core/ports/identity-store.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import type { RepoKey } from '../core/repo-key.js';
import { MANAGED_POLICIES, parsePolicy, type Policy } from './policy/index.js';

/** How long parsed policies are reused. Policy changes reach every node within this time. */
export const POLICY_CACHE_MS = 5_000;

/**
 * Loads and parses the policies that apply to a request, with a short cache: the `/v2` hot path
 * must not re-read and re-parse every policy of a user on each manifest GET.
 */
export class PolicySource {
  readonly #cache = new Map<string, { at: number; value: Promise<Policy[]> }>();

  constructor(
    private readonly identity: IdentityStore,
    private readonly meta: MetaStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Identity policies of an IAM user: inline and attached, its own and its groups'. */
  userPolicies(accountId: string, userName: string, signal: AbortSignal): Promise<Policy[]> {
    return this.#cached(`u\u0000${accountId}\u0000${userName.toLowerCase()}`, async () => {
      const { inline, attached } = await this.identity.effectivePolicies(accountId, userName, signal);
      const docs = [...inline];
      for (const arn of attached) {
        const managed = MANAGED_POLICIES.get(arn);
        if (managed) {
          docs.push(JSON.stringify(managed.document));
          continue;
        }
        const doc = await this.identity.defaultPolicyDocument(arn, signal);
        if (doc) docs.push(doc);
      }
      return parseAll(docs, 'identity');
    });
  }

  /** Resource policies of a repository (its repository policy) plus its account's registry policy. */
  repositoryPolicies(repository: RepoKey | undefined, accountId: string, signal: AbortSignal): Promise<Policy[]> {
    return this.#cached(`r\u0000${accountId}\u0000${repository ?? ''}`, async () => {
      const docs: string[] = [];
      if (repository) {
        const policy = await this.meta.getRepositoryPolicy(repository, signal).catch(() => undefined);
        if (policy) docs.push(policy);
      }
      const registry = await this.meta.getRegistryPolicy(accountId, signal);
      if (registry) docs.push(registry);
      return parseAll(docs, 'resource');
    });
  }

  readonly #listeners: (() => void)[] = [];

  /** Forgets cached policies now (this node only), e.g. right after a policy or key write. */
  invalidate(): void {
    this.#cache.clear();
    for (const l of this.#listeners) l();
  }

  /** Runs `listener` on every {@link invalidate}, for caches of decisions built on these policies. */
  onInvalidate(listener: () => void): void {
    this.#listeners.push(listener);
  }

  #cached(key: string, load: () => Promise<Policy[]>): Promise<Policy[]> {
    const hit = this.#cache.get(key);
    const now = this.now();
    if (hit && now - hit.at < POLICY_CACHE_MS) return hit.value;
    if (this.#cache.size > 10_000) this.#cache.clear();
    const value = load();
    this.#cache.set(key, { at: now, value });
    value.catch(() => this.#cache.delete(key));
    return value;
  }
}

/**
 * Stored documents were validated when written; one that no longer parses is skipped, not fatal. Repeated
 * statement ids are read as written: ECR stores them (its policies may repeat a Sid), IAM refused them at write.
 */
function parseAll(docs: string[], kind: 'identity' | 'resource'): Policy[] {
  const out: Policy[] = [];
  for (const doc of docs) {
    const r = parsePolicy(doc, kind, { uniqueSids: false });
    if ('policy' in r) out.push(r.policy);
  }
  return out;
}
