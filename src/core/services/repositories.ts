import { fail } from '../errors.js';
import type { EventBus } from '../events.js';
import type { MetaStore, PageRequest, Repository } from '../ports/meta-store.js';
import { validateRepositoryName } from '../names.js';

/** Repository look-up shared by the blob, upload and manifest services. */
export class RepositoryService {
  constructor(
    private readonly meta: MetaStore,
    private readonly events: EventBus,
    private readonly defaultAccountId: string,
  ) {}

  /** The repository, or throws `RepositoryNotFound`. */
  async require(name: string, signal: AbortSignal): Promise<Repository> {
    validateRepositoryName(name);
    const repo = await this.meta.getRepository(name, signal);
    if (!repo) throw fail('RepositoryNotFound', `The repository with name '${name}' does not exist in the registry with id '${this.defaultAccountId}'`, { name });
    return repo;
  }

  /** For pushes: the repository, created first when `create` allows it, else `RepositoryNotFound`. */
  async forPush(name: string, create: boolean, signal: AbortSignal): Promise<Repository> {
    validateRepositoryName(name);
    if (!create) return this.require(name, signal);
    const existing = await this.meta.getRepository(name, signal);
    if (existing) return existing;
    const { repository, created } = await this.meta.createRepository(name, signal, { accountId: this.defaultAccountId });
    if (created) this.events.emit({ type: 'repository.created', repository: name, at: repository.createdAt });
    return repository;
  }

  /** A page of repository names for the catalog. */
  list(page: PageRequest, signal: AbortSignal): Promise<string[]> {
    return this.meta.listRepositories(page, signal);
  }
}
