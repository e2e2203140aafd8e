/**
 * The public registries of accounts (ECR Public): each account's alias and display name, and the
 * catalog data of its public repositories. Public repositories are ordinary repositories of the
 * metadata store named `<alias>/<name>`; this port only says which ones are public and what the
 * gallery shows about them.
 *
 * ```
 *  public_registries     account_id (pk) · alias (unique) · display_name
 *  public_repositories   pk(account_id, name = "<alias>/<short name>") · catalog json · search text
 *                        · logo (bytes, ≤ 512,000) · logo_type · created_at
 * ```
 *
 * A public record whose repository is missing from the metadata store (a crash between the two
 * writes) is a leftover: readers check the repository exists, and creating it again adopts it.
 * Every write is atomic and visible to every reader once its promise resolves.
 */
export interface PublicRegistryStore {
  /** The account's alias, or `undefined` when none was assigned yet. */
  getAlias(accountId: string, signal: AbortSignal): Promise<string | undefined>;

  /** The account owning `alias`, or `undefined`. */
  accountOfAlias(alias: string, signal: AbortSignal): Promise<string | undefined>;

  /**
   * Assigns `alias` to the account (replacing its previous alias). Throws `EntityAlreadyExists`
   * when another account holds it. Idempotent for the same pair.
   */
  setAlias(accountId: string, alias: string, signal: AbortSignal): Promise<void>;

  /** The registry's display name ('' when never set). */
  getDisplayName(accountId: string, signal: AbortSignal): Promise<string>;

  /** Sets the display name; creates the registry row if needed (alias must be set first). */
  setDisplayName(accountId: string, displayName: string, signal: AbortSignal): Promise<void>;

  /**
   * Records `name` (full, `<alias>/<short>`) as public with its catalog data, replacing an existing
   * record (its creation time is kept). `logo`: new bytes, `null` to remove, `undefined` to keep.
   */
  putRepository(record: Omit<PublicRepositoryRecord, 'logo'>, logo: LogoInput, signal: AbortSignal): Promise<void>;

  /** The public record of `name`, or `undefined` (the repository is then private or absent). */
  getRepository(name: string, signal: AbortSignal): Promise<PublicRepositoryRecord | undefined>;

  /** The logo bytes and content type of `name`, or `undefined`. */
  getLogo(name: string, signal: AbortSignal): Promise<{ bytes: Buffer; contentType: string } | undefined>;

  /** Removes the public record; resolves `false` when there was none. */
  deleteRepository(name: string, signal: AbortSignal): Promise<boolean>;

  /**
   * Public repositories in name order after `last`, at most `limit`: of one account when
   * `accountId` is given, else of all; filtered by `query` (every word must occur in the name or
   * description, case-insensitive), `architecture` and `operatingSystem` (exact badge match).
   */
  listRepositories(filter: PublicRepositoryFilter, signal: AbortSignal): Promise<PublicRepositoryRecord[]>;

  /** Counts what {@link listRepositories} would list without paging. */
  countRepositories(filter: Omit<PublicRepositoryFilter, 'last' | 'limit'>, signal: AbortSignal): Promise<number>;
}

export interface PublicRepositoryFilter {
  accountId?: string;
  query?: string;
  architecture?: string;
  operatingSystem?: string;
  last?: string;
  limit: number;
}

/** Catalog data as ECR Public stores it (without the logo bytes). */
export interface CatalogData {
  description: string;
  aboutText: string;
  usageText: string;
  architectures: string[];
  operatingSystems: string[];
}

export interface PublicRepositoryRecord {
  accountId: string;
  /** Full stored name, `<alias>/<short name>`. */
  name: string;
  /** The part after the alias, as ECR Public's `repositoryName`. */
  shortName: string;
  catalog: CatalogData;
  /** The logo's content type and a digest of its bytes (for cache-busting URLs), when there is a logo. */
  logo?: { contentType: string; etag: string };
  createdAt: Date;
}

/** A logo given with catalog data: `undefined` keeps the existing one, `null` removes it. */
export type LogoInput = { bytes: Buffer; contentType: string } | null | undefined;
