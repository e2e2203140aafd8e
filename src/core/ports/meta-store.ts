import type { Digest } from '../digest.js';
import type { RepoKey } from '../repo-key.js';

/**
 * The metadata store: the single source of truth for repositories, blob links, upload sessions,
 * manifests, tags, referrers and ECR settings and policies. Nothing is inferred from blob paths.
 *
 * ```
 *  repositories (account, name unique per account, settings json, policy)
 *    ├─< repository_blobs (digest, size)                     blobs a repository may serve
 *    ├─< uploads (id, size)                                  resumable upload sessions
 *    ├─< manifests (digest, body, subject, image size,  ─┬─< manifest_blobs (blob digest)
 *    │              last pulled)                          └─< manifest_children (child digest)
 *    └─< tags (name → manifest digest)
 *  registry_policies (account → policy) · account_settings (account, name → value)
 * ```
 *
 * Identity (accounts, users, keys, groups, policies) lives beside it in the same database behind
 * the `IdentityStore` port. Each account is its own registry: repositories are addressed by
 * {@link RepoKey} (account, name), and nothing lists or finds another account's repositories.
 *
 * Every write method is atomic: it is visible to every reader (on any node) as soon as its
 * promise resolves, and not at all if it rejects. Names passed in are already validated.
 */
export interface MetaStore {
  /**
   * Creates a repository in the key's account; idempotent (an existing one is returned unchanged,
   * with `created: false`). `init` gives ECR settings (defaults: {@link DEFAULT_REPOSITORY_SETTINGS}).
   */
  createRepository(repository: RepoKey, signal: AbortSignal, init?: RepositoryInit): Promise<{ repository: Repository; created: boolean }>;

  /** Applies a partial settings change and resolves with the result. Throws `RepositoryNotFound`. */
  updateRepository(repository: RepoKey, patch: Partial<RepositorySettings>, signal: AbortSignal): Promise<Repository>;

  /** The account's repositories with their settings in byte order of name, after `last`, at most `limit`. */
  listRepositoryDetails(accountId: string, page: PageRequest, signal: AbortSignal): Promise<Repository[]>;

  /** The repository policy text, or `undefined`. Throws `RepositoryNotFound`. */
  getRepositoryPolicy(repository: RepoKey, signal: AbortSignal): Promise<string | undefined>;

  /** Sets (text) or removes (`undefined`) the repository policy. Throws `RepositoryNotFound`. */
  setRepositoryPolicy(repository: RepoKey, policy: string | undefined, signal: AbortSignal): Promise<void>;

  /** The repository, or `undefined`. */
  getRepository(repository: RepoKey, signal: AbortSignal): Promise<Repository | undefined>;

  /** Names of the account's repositories in byte order, strictly after `last` when given, at most `limit`. */
  listRepositories(accountId: string, page: PageRequest, signal: AbortSignal): Promise<string[]>;

  /**
   * Deletes a repository with everything in it (manifests, tags, blob links, upload sessions).
   * Resolves with `false` when it did not exist. With `onlyIfEmpty`, throws `RepositoryNotEmpty`
   * (nothing deleted) while it holds any manifest. Blob bytes are left to garbage collection.
   */
  deleteRepository(repository: RepoKey, signal: AbortSignal, opts?: { onlyIfEmpty?: boolean }): Promise<boolean>;

  /**
   * Records that `repository` holds blob `digest` of `size` bytes; idempotent.
   * Throws `RepositoryNotFound`. Call only after the blob is committed in the blob store.
   * `endUpload` names an upload session of the repository to end in the same transaction (the
   * session whose bytes became this blob), so a completed push costs one metadata commit.
   */
  linkBlob(repository: RepoKey, digest: Digest, size: number, signal: AbortSignal, opts?: { endUpload?: string }): Promise<void>;

  /** The blob's size if `repository` holds it, else `undefined`. */
  getBlobLink(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ size: number } | undefined>;

  /**
   * Removes a blob from a repository. Resolves `false` when it was not linked. Throws
   * `BlobReferenced` when a manifest of the repository still references it.
   */
  unlinkBlob(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<boolean>;

  /** Starts an upload session at size 0. Throws `RepositoryNotFound`. */
  createUpload(session: { id: string; repository: RepoKey }, signal: AbortSignal): Promise<UploadSession>;

  /** The session, or `undefined` (also when it belongs to another repository). */
  getUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<UploadSession | undefined>;

  /**
   * Compare-and-set of the session's size after a chunk was staged. Throws `UploadInvalid` when
   * the stored size is not `expected` (another request moved it) and `UploadNotFound` when gone.
   */
  advanceUpload(repository: RepoKey, id: string, expected: number, size: number, signal: AbortSignal): Promise<UploadSession>;

  /** Ends a session; resolves `false` when it did not exist. */
  deleteUpload(repository: RepoKey, id: string, signal: AbortSignal): Promise<boolean>;

  /** Sessions not advanced since `before` (for clean-up of abandoned uploads). */
  listStaleUploads(before: Date, signal: AbortSignal): Promise<UploadSession[]>;

  /**
   * Stores a manifest and optionally points `tag` at it, in one transaction. Checks inside that
   * transaction that every blob in `blobs` is linked to the repository and every digest in
   * `manifests` is a manifest of the repository, else throws `ManifestBlobUnknown` (detail
   * `missing`). Storing an existing digest again is idempotent. `beforeTagMove` runs inside the
   * transaction when the tag already points at another digest and may throw to refuse the move.
   * Throws `RepositoryNotFound`.
   */
  putManifest(input: PutManifestInput, signal: AbortSignal): Promise<{ created: boolean; previous?: Digest }>;

  /** The manifest stored under `digest` in the repository, or `undefined`. */
  getManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<ManifestRecord | undefined>;

  /** The digest a tag points at, or `undefined`. */
  resolveTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<Digest | undefined>;

  /**
   * Deletes a manifest and every tag pointing at it. Resolves with the removed tags, or `undefined`
   * when the manifest did not exist. Throws `ManifestReferenced` when an index of the repository
   * lists it as a child.
   */
  deleteManifest(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<{ tags: string[] } | undefined>;

  /** Removes one tag (the manifest stays); resolves `false` when the tag did not exist. */
  deleteTag(repository: RepoKey, tag: string, signal: AbortSignal): Promise<boolean>;

  /** Tag names in byte order, strictly after `last` when given, at most `limit`. */
  listTags(repository: RepoKey, page: PageRequest, signal: AbortSignal): Promise<string[]>;

  /**
   * Manifests of the repository whose `subject` is `subject`, optionally only those whose
   * artifact type equals `artifactType`, ordered by digest.
   */
  listReferrers(repository: RepoKey, subject: Digest, artifactType: string | undefined, signal: AbortSignal): Promise<Referrer[]>;

  /**
   * Image ids of a repository: one entry per (manifest, tag) pair, plus one entry without a tag for
   * each untagged manifest; ordered by digest then tag; `filter` keeps tagged or untagged only.
   * `after` is the opaque cursor of the last entry of the previous page.
   */
  listImageIds(repository: RepoKey, query: { filter?: 'TAGGED' | 'UNTAGGED' | 'ANY'; after?: string; limit: number }, signal: AbortSignal): Promise<{ ids: ImageId[]; next?: string }>;

  /**
   * Details of the repository's manifests in push order (push time, then digest; each push gets a
   * later time than the repository's previous one) after the `after` cursor, as ECR lists them; or of
   * exactly the digests in `digests` (unknown ones omitted). `filter` applies to tags as above.
   */
  describeImages(repository: RepoKey, query: { digests?: Digest[]; filter?: 'TAGGED' | 'UNTAGGED' | 'ANY'; after?: string; limit: number }, signal: AbortSignal): Promise<{ images: ImageDetail[]; next?: string }>;

  /** Records a pull of a manifest (best effort; implementations may coalesce writes). */
  recordPull(repository: RepoKey, digest: Digest, at: Date, signal: AbortSignal): Promise<void>;

  /** The account's registry policy text, or `undefined`. */
  getRegistryPolicy(accountId: string, signal: AbortSignal): Promise<string | undefined>;

  /** Sets (text) or removes (`undefined`) the account's registry policy. */
  setRegistryPolicy(accountId: string, policy: string | undefined, signal: AbortSignal): Promise<void>;

  /** An ECR account setting (e.g. `BASIC_SCAN_TYPE_VERSION`), or `undefined` when never set. */
  getAccountSetting(accountId: string, name: string, signal: AbortSignal): Promise<string | undefined>;

  putAccountSetting(accountId: string, name: string, value: string, signal: AbortSignal): Promise<void>;

  /** Every (repository, manifest, blob) reference, for fsck and garbage collection. */
  listBlobReferences(signal: AbortSignal): AsyncIterable<{ repository: RepoKey; manifest: Digest; blob: Digest }>;

  /** Every distinct blob digest linked to any repository, with its recorded size. */
  listLinkedBlobs(signal: AbortSignal): AsyncIterable<{ digest: Digest; size: number }>;

  /** Closes connections; pending calls finish first. */
  close(): Promise<void>;
}

/** The account that owns repositories created without an explicit one. */
export const DEFAULT_ACCOUNT_ID = '000000000000';

export interface Repository {
  name: string;
  createdAt: Date;
  /** The owning account (ECR `registryId`). */
  accountId: string;
  settings: RepositorySettings;
}

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

/** ECR repository settings, stored as given and returned by DescribeRepositories. */
export interface RepositorySettings {
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: { filterType: 'WILDCARD'; filter: string }[];
  scanOnPush: boolean;
  encryption: { encryptionType: 'AES256' | 'KMS' | 'KMS_DSSE'; kmsKey?: string };
  tags: { Key: string; Value: string }[];
}

export const DEFAULT_REPOSITORY_SETTINGS: RepositorySettings = Object.freeze({
  imageTagMutability: 'MUTABLE',
  imageTagMutabilityExclusionFilters: [],
  scanOnPush: false,
  encryption: { encryptionType: 'AES256' },
  tags: [],
}) as RepositorySettings;

export interface RepositoryInit {
  settings?: Partial<RepositorySettings>;
}

export interface ImageId {
  digest: Digest;
  tag?: string;
}

export interface ImageDetail {
  digest: Digest;
  /** Tags pointing at it, in the order they were applied (ECR's `imageTags`); a moved tag counts as applied when moved. */
  tags: string[];
  mediaType: string;
  artifactType?: string;
  /** Size of the manifest body. */
  manifestSize: number;
  /** Sum of the sizes of the blobs (config and layers) or child manifests it references. */
  imageSize: number;
  pushedAt: Date;
  lastPulledAt?: Date;
}

export interface PageRequest {
  last?: string;
  limit: number;
}

export interface UploadSession {
  id: string;
  repository: RepoKey;
  size: number;
  startedAt: Date;
  updatedAt: Date;
}

export interface PutManifestInput {
  repository: RepoKey;
  digest: Digest;
  mediaType: string;
  body: Uint8Array;
  /** Sum of referenced descriptor sizes, reported as ECR's `imageSizeInBytes`. */
  imageSize: number;
  artifactType?: string;
  subject?: Digest;
  annotations?: Record<string, string>;
  blobs: Digest[];
  manifests: Digest[];
  tag?: string;
  beforeTagMove?: (tag: string, from: Digest, to: Digest) => void;
}

export interface ManifestRecord {
  repository: RepoKey;
  digest: Digest;
  mediaType: string;
  size: number;
  body: Uint8Array;
  artifactType?: string;
  subject?: Digest;
  annotations?: Record<string, string>;
  pushedAt: Date;
}

export interface Referrer {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}
