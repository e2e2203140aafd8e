import { fail } from '../../errors.js';
import type { EventBus } from '../../events.js';
import { validateRepositoryName } from '../../names.js';
import type { MetaStore, PageRequest, Repository, RepositorySettings } from '../../ports/meta-store.js';
import { DEFAULT_REGISTRY_POLICY_SCOPE, registryPolicyActionProblems, type RegistryPolicyScope } from './registry-policy-scope.js';
import { repoAccount, repoName, type RepoKey } from '../../repo-key.js';

/** Validates a resource policy document; resolves with the problems found (empty when valid). */
export type PolicyValidator = (document: string) => string[];

const MAX_TAGS = 50;

/** ECR repository administration: create, describe, delete, settings, tags and policies. */
export class EcrRepositoryService {
  constructor(
    private readonly meta: MetaStore,
    private readonly events: EventBus,
    private readonly validateResourcePolicy: PolicyValidator,
  ) {}

  /** Throws `RepositoryAlreadyExists`, `InvalidName`, `TooManyTags`. */
  async create(key: RepoKey, settings: Partial<RepositorySettings>, signal: AbortSignal): Promise<Repository> {
    const name = validateRepositoryName(repoName(key));
    if ((settings.tags?.length ?? 0) > MAX_TAGS) throw fail('TooManyTags', `a repository can have at most ${MAX_TAGS} tags`);
    const { repository, created } = await this.meta.createRepository(key, signal, { settings });
    if (!created) throw fail('RepositoryAlreadyExists', `The repository with name '${name}' already exists in the registry with id '${repoAccount(key)}'`);
    this.events.emit({ type: 'repository.created', repository: key, at: repository.createdAt });
    return repository;
  }

  /** Throws `RepositoryNotFound` (ECR's wording). */
  async get(key: RepoKey, signal: AbortSignal): Promise<Repository> {
    const name = validateRepositoryName(repoName(key));
    const repo = await this.meta.getRepository(key, signal);
    if (!repo) {
      throw fail('RepositoryNotFound', `The repository with name '${name}' does not exist in the registry with id '${repoAccount(key)}'`);
    }
    return repo;
  }

  /**
   * A page of the account's repositories (at most `limit + 1`, so the caller learns whether more
   * follow), keeping only those `visible` accepts (default: all) without shortening the page.
   */
  async list(accountId: string, page: PageRequest, signal: AbortSignal, visible?: (r: Repository) => Promise<boolean>): Promise<Repository[]> {
    if (!visible) return this.meta.listRepositoryDetails(accountId, { limit: page.limit + 1, ...(page.last ? { last: page.last } : {}) }, signal);
    const out: Repository[] = [];
    let last = page.last;
    for (;;) {
      const batch = await this.meta.listRepositoryDetails(accountId, { limit: page.limit + 1, ...(last ? { last } : {}) }, signal);
      for (const r of batch) {
        if (await visible(r)) out.push(r);
        if (out.length > page.limit) return out;
      }
      if (batch.length < page.limit + 1) return out;
      last = batch[batch.length - 1]!.name;
    }
  }

  /** Deletes a repository; without `force`, throws `RepositoryNotEmpty` while it holds images. */
  async delete(key: RepoKey, force: boolean, signal: AbortSignal): Promise<Repository> {
    const repo = await this.get(key, signal);
    await this.meta.deleteRepository(key, signal, { onlyIfEmpty: !force }).catch((err: unknown) => {
      if (err instanceof Error && 'code' in err && err.code === 'RepositoryNotEmpty') {
        throw fail('RepositoryNotEmpty', `The repository with name '${repo.name}' in registry with id '${repo.accountId}' cannot be deleted because it still contains images`);
      }
      throw err;
    });
    this.events.emit({ type: 'repository.deleted', repository: key, at: new Date() });
    return repo;
  }

  async update(key: RepoKey, patch: Partial<RepositorySettings>, signal: AbortSignal): Promise<Repository> {
    await this.get(key, signal);
    return this.meta.updateRepository(key, patch, signal);
  }

  /** Adds or replaces tags by key. Throws `TooManyTags` beyond 50. */
  async tag(key: RepoKey, tags: { Key: string; Value: string }[], signal: AbortSignal): Promise<void> {
    const repo = await this.get(key, signal);
    const merged = new Map(repo.settings.tags.map((t) => [t.Key, t.Value]));
    for (const t of tags) merged.set(t.Key, t.Value);
    if (merged.size > MAX_TAGS) throw fail('TooManyTags', `a repository can have at most ${MAX_TAGS} tags`);
    await this.meta.updateRepository(key, { tags: [...merged].map(([Key, Value]) => ({ Key, Value })) }, signal);
  }

  async untag(key: RepoKey, keys: string[], signal: AbortSignal): Promise<void> {
    const repo = await this.get(key, signal);
    await this.meta.updateRepository(key, { tags: repo.settings.tags.filter((t) => !keys.includes(t.Key)) }, signal);
  }

  async getPolicy(key: RepoKey, signal: AbortSignal): Promise<string> {
    const repo = await this.get(key, signal);
    const policy = await this.meta.getRepositoryPolicy(key, signal);
    if (!policy) throw fail('RepositoryPolicyNotFound', `Repository policy does not exist for the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`);
    return policy;
  }

  /** Sets the repository policy after validating it (`InvalidParameter` naming the problems). */
  async setPolicy(key: RepoKey, text: string, signal: AbortSignal): Promise<void> {
    await this.get(key, signal);
    this.#validate('repository', text);
    await this.meta.setRepositoryPolicy(key, text, signal);
  }

  async deletePolicy(key: RepoKey, signal: AbortSignal): Promise<string> {
    const policy = await this.getPolicy(key, signal);
    await this.meta.setRepositoryPolicy(key, undefined, signal);
    return policy;
  }

  async getRegistryPolicy(accountId: string, signal: AbortSignal): Promise<string> {
    const policy = await this.meta.getRegistryPolicy(accountId, signal);
    if (!policy) throw fail('RegistryPolicyNotFound', `Registry policy does not exist in the registry with id '${accountId}'`);
    return policy;
  }

  /** Sets the registry policy after validating it, and its actions against the account's REGISTRY_POLICY_SCOPE. */
  async setRegistryPolicy(accountId: string, text: string, signal: AbortSignal): Promise<void> {
    this.#validate('registry', text);
    const scope = ((await this.meta.getAccountSetting(accountId, 'REGISTRY_POLICY_SCOPE', signal)) ?? DEFAULT_REGISTRY_POLICY_SCOPE) as RegistryPolicyScope;
    this.#refuse('registry', registryPolicyActionProblems(text, scope));
    await this.meta.setRegistryPolicy(accountId, text, signal);
  }

  async deleteRegistryPolicy(accountId: string, signal: AbortSignal): Promise<string> {
    const policy = await this.getRegistryPolicy(accountId, signal);
    await this.meta.setRegistryPolicy(accountId, undefined, signal);
    return policy;
  }

  #validate(kind: 'repository' | 'registry', text: string): void {
    this.#refuse(kind, this.validateResourcePolicy(text));
  }

  /** ECR's wording, then what berth found wrong (ECR says no more; the detail saves a guessing game). */
  #refuse(kind: 'repository' | 'registry', problems: string[]): void {
    if (problems.length) throw fail('InvalidParameter', `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid ${kind} policy provided': ${problems.join('; ')}`);
  }
}
