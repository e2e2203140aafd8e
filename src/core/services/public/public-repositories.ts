import { createHash } from 'node:crypto';
import { fail } from '../../errors.js';
import type { EventBus } from '../../events.js';
import { validateRepositoryName } from '../../names.js';
import type { MetaStore, Repository } from '../../ports/meta-store.js';
import { repoKey, type RepoKey } from '../../repo-key.js';
import type { PublicRegistryStore, PublicRepositoryFilter, PublicRepositoryRecord } from '../../ports/public-registry.js';
import { EMPTY_CATALOG, mergeCatalog, type CatalogInput } from './catalog.js';

const ALIAS_RE = /^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** A public repository: the metadata store's repository and its public record. */
export interface PublicRepository {
  repository: Repository;
  record: PublicRepositoryRecord;
}

/**
 * ECR Public's registries and repositories. A public repository of the account whose alias is
 * `a` is the metadata store's repository `a/<name>` plus a public record; the alias is the
 * namespace on `/v2`, so private repositories may not be created inside one (see
 * {@link assertPrivateName}) and an alias may not cover existing private repositories.
 *
 * Write order: the repository first, then its public record. A crash in between leaves a
 * repository under the alias that is private (never a leak); creating it again adopts it.
 */
export class PublicRepositoryService {
  constructor(
    private readonly meta: MetaStore,
    private readonly store: PublicRegistryStore,
    private readonly events: EventBus,
  ) {}

  /** The alias an account gets when none is configured: stable, derived from the account id. */
  static derivedAlias(accountId: string): string {
    const h = createHash('sha256').update(`berth-public-alias:${accountId}`).digest();
    let out = 'b';
    for (let i = 0; out.length < 8; i++) out += 'abcdefghijklmnopqrstuvwxyz0123456789'[h[i]! % 36];
    return out;
  }

  /** The metadata store's key of a public repository: `<alias>/<name>` in its owner's account. */
  static keyOf(record: { accountId: string; name: string }): RepoKey {
    return repoKey(record.accountId, record.name);
  }

  /** The account whose public registry has the alias `name` starts with (`<alias>/…`), or `undefined`. */
  async ownerOfName(name: string, signal: AbortSignal): Promise<string | undefined> {
    const slash = name.indexOf('/');
    return slash > 0 ? this.store.accountOfAlias(name.slice(0, slash), signal) : undefined;
  }

  /** Checks an alias against ECR Public's grammar; throws `InvalidParameter`. */
  static validateAlias(alias: string): string {
    if (alias.length < 2 || alias.length > 50 || !ALIAS_RE.test(alias)) {
      throw fail('InvalidParameter', `invalid registry alias '${alias.slice(0, 60)}': 2-50 characters matching [a-z][a-z0-9]+([._-][a-z0-9]+)*`);
    }
    return alias;
  }

  /**
   * The account's alias, assigning `wanted` (or the derived one) when it has none, or replacing
   * it with `wanted` while the old alias holds no public repository. Throws `InvalidParameter`
   * when the alias would cover existing private repositories or is another account's.
   */
  async ensureAlias(accountId: string, wanted: string | undefined, signal: AbortSignal): Promise<string> {
    const current = await this.store.getAlias(accountId, signal);
    if (current !== undefined && (wanted === undefined || wanted === current)) return current;
    const alias = PublicRepositoryService.validateAlias(wanted ?? PublicRepositoryService.derivedAlias(accountId));
    if (current !== undefined && (await this.store.countRepositories({ accountId }, signal)) > 0) {
      throw fail('InvalidParameter', `the public registry of account ${accountId} has repositories under its alias '${current}'; it cannot be renamed to '${alias}'`);
    }
    // Only the account's own repositories can be checked here (names are per account); private
    // creates inside any alias are refused by assertPrivateName from then on.
    const [first] = await this.meta.listRepositories(accountId, { last: `${alias}/`, limit: 1 }, signal);
    if (first?.startsWith(`${alias}/`)) {
      throw fail('InvalidParameter', `the registry alias '${alias}' collides with the private repository '${first}'; choose another alias`);
    }
    await this.store.setAlias(accountId, alias, signal).catch((err: unknown) => {
      if (err instanceof Error && 'code' in err && err.code === 'EntityAlreadyExists') throw fail('InvalidParameter', `the registry alias '${alias}' belongs to another account`);
      throw err;
    });
    return alias;
  }

  /** The account's alias (assigning the derived one on first use). */
  alias(accountId: string, signal: AbortSignal): Promise<string> {
    return this.ensureAlias(accountId, undefined, signal);
  }

  /**
   * For private creates (ECR CreateRepository, the console): throws `InvalidParameter` naming the
   * collision when `name` lies inside any account's public alias.
   */
  async assertPrivateName(name: string, signal: AbortSignal): Promise<void> {
    const slash = name.indexOf('/');
    if (slash < 0) return;
    const alias = name.slice(0, slash);
    if (await this.store.accountOfAlias(alias, signal)) {
      throw fail('InvalidParameter', `Invalid parameter at 'repositoryName' failed to satisfy constraint: '${alias}' is the alias of a public registry; a private repository cannot be created inside it (create public repositories with aws ecr-public create-repository)`);
    }
  }

  /** The public repository stored as `name` (`<alias>/<short>`), or `undefined` when it is private or absent. */
  async lookup(name: string, signal: AbortSignal): Promise<PublicRepository | undefined> {
    const record = await this.store.getRepository(name, signal);
    if (!record) return undefined;
    const repository = await this.meta.getRepository(repoKey(record.accountId, name), signal);
    return repository ? { repository, record } : undefined;
  }

  /** Throws `RepositoryNotFound` (ECR Public's wording) unless the account has this public repository. */
  async get(accountId: string, shortName: string, signal: AbortSignal): Promise<PublicRepository> {
    const name = `${await this.alias(accountId, signal)}/${shortName}`;
    const found = validName(name) ? await this.lookup(name, signal) : undefined;
    if (!found || found.record.accountId !== accountId) {
      throw fail('RepositoryNotFound', `The repository with name '${shortName}' does not exist in the registry with id '${accountId}'`);
    }
    return found;
  }

  /**
   * Creates a public repository with catalog data. Throws `RepositoryAlreadyExists`,
   * `InvalidParameter` (a private repository holds the name; a bad logo) and `InvalidName`.
   */
  async create(accountId: string, shortName: string, input: CatalogInput, tags: { Key: string; Value: string }[], signal: AbortSignal): Promise<PublicRepository> {
    const alias = await this.alias(accountId, signal);
    const name = validateRepositoryName(`${alias}/${shortName}`);
    const { catalog, logo } = mergeCatalog(EMPTY_CATALOG, input);
    const existingRecord = await this.store.getRepository(name, signal);
    const key = repoKey(accountId, name);
    const { repository, created } = await this.meta.createRepository(key, signal, { settings: { tags } });
    if (!created) {
      if (existingRecord) throw fail('RepositoryAlreadyExists', `The repository with name '${shortName}' already exists in the registry with id '${accountId}'`);
      if ((await this.meta.listImageIds(key, { limit: 1 }, signal)).ids.length > 0) {
        throw fail('InvalidParameter', `a private repository named '${name}' already exists; a public repository cannot be created over it`);
      }
      // An empty repository under our alias without a public record is a create that crashed half-way: adopt it.
    }
    const record = { accountId, name, shortName, catalog, createdAt: repository.createdAt };
    await this.store.putRepository(record, logo, signal);
    if (created) this.events.emit({ type: 'repository.created', repository: key, at: repository.createdAt });
    return { repository, record: (await this.store.getRepository(name, signal)) ?? record };
  }

  /** Replaces the catalog fields given in `input`; resolves with the new record. */
  async putCatalog(accountId: string, shortName: string, input: CatalogInput, signal: AbortSignal): Promise<PublicRepositoryRecord> {
    const { record } = await this.get(accountId, shortName, signal);
    const { catalog, logo } = mergeCatalog(record.catalog, input);
    await this.store.putRepository({ ...record, catalog }, logo, signal);
    return (await this.store.getRepository(record.name, signal))!;
  }

  /** Deletes a public repository; without `force`, `RepositoryNotEmpty` while it holds images. */
  async delete(accountId: string, shortName: string, force: boolean, signal: AbortSignal): Promise<PublicRepository> {
    const found = await this.get(accountId, shortName, signal);
    await this.meta.deleteRepository(PublicRepositoryService.keyOf(found.record), signal, { onlyIfEmpty: !force }).catch((err: unknown) => {
      if (err instanceof Error && 'code' in err && err.code === 'RepositoryNotEmpty') {
        throw fail('RepositoryNotEmpty', `The repository with name '${shortName}' in registry with id '${accountId}' cannot be deleted because it still contains images`);
      }
      throw err;
    });
    await this.store.deleteRepository(found.record.name, signal);
    this.events.emit({ type: 'repository.deleted', repository: PublicRepositoryService.keyOf(found.record), at: new Date() });
    return found;
  }

  /**
   * Public repositories matching `filter` whose repository exists (leftover records of a crashed
   * delete are skipped without shortening the page).
   */
  async list(filter: PublicRepositoryFilter, signal: AbortSignal): Promise<PublicRepository[]> {
    const out: PublicRepository[] = [];
    let last = filter.last;
    for (;;) {
      const batch = await this.store.listRepositories({ ...filter, ...(last !== undefined ? { last } : {}) }, signal);
      for (const record of batch) {
        const repository = await this.meta.getRepository(PublicRepositoryService.keyOf(record), signal);
        if (repository) out.push({ repository, record });
      }
      if (out.length >= filter.limit || batch.length < filter.limit) return out.slice(0, filter.limit);
      last = batch[batch.length - 1]!.name;
    }
  }

  count(filter: Omit<PublicRepositoryFilter, 'last' | 'limit'>, signal: AbortSignal): Promise<number> {
    return this.store.countRepositories(filter, signal);
  }

  displayName(accountId: string, signal: AbortSignal): Promise<string> {
    return this.store.getDisplayName(accountId, signal);
  }

  async setDisplayName(accountId: string, displayName: string, signal: AbortSignal): Promise<void> {
    await this.alias(accountId, signal);
    await this.store.setDisplayName(accountId, displayName, signal);
  }

  logo(name: string, signal: AbortSignal): Promise<{ bytes: Buffer; contentType: string } | undefined> {
    return this.store.getLogo(name, signal);
  }
}

function validName(name: string): boolean {
  try {
    validateRepositoryName(name);
    return true;
  } catch {
    return false;
  }
}
