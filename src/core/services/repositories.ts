import { fail } from '../errors.js';
import type { EventBus } from '../events.js';
import type { MetaStore, PageRequest, Repository } from '../ports/meta-store.js';
import { validateRepositoryName } from '../names.js';
import { repoAccount, repoName, type RepoKey } from '../repo-key.js';

/** Repository look-up shared by the blob, upload and manifest services. */
export class RepositoryService {
  constructor(
    private readonly meta: MetaStore,
    private readonly events: EventBus,
  ) {}

  /** The repository, or throws `RepositoryNotFound`. */
  async require(repository: RepoKey, signal: AbortSignal): Promise<Repository> {
    const name = validateRepositoryName(repoName(repository));
    const repo = await this.meta.getRepository(repository, signal);
    if (!repo) throw fail('RepositoryNotFound', `The repository with name '${name}' does not exist in the registry with id '${repoAccount(repository)}'`, { name });
    return repo;
  }

  /** For pushes: the repository, created first when `create` allows it, else `RepositoryNotFound`. */
  async forPush(repository: RepoKey, create: boolean, signal: AbortSignal): Promise<Repository> {
    validateRepositoryName(repoName(repository));
    if (!create) return this.require(repository, signal);
    const existing = await this.meta.getRepository(repository, signal);
    if (existing) return existing;
    const { repository: created, created: isNew } = await this.meta.createRepository(repository, signal);
    if (isNew) this.events.emit({ type: 'repository.created', repository, at: created.createdAt });
    return created;
  }

  /** A page of the account's repository names for the catalog. */
  list(accountId: string, page: PageRequest, signal: AbortSignal): Promise<string[]> {
    return this.meta.listRepositories(accountId, page, signal);
  }
}
