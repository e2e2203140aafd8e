import type { Digest } from './digest.js';
import { repoAccount, repoKey, repoName, type RepoKey } from './repo-key.js';

/**
 * Lifecycle policies as ECR defines them (`lifecyclePolicyText`), after validation. Field names and
 * enum spellings are ECR's; `storageClass` defaults to `standard`.
 */
export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

export type TagStatus = 'tagged' | 'untagged' | 'any';
export type CountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';
export type StorageClass = 'STANDARD' | 'ARCHIVE';

export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: TagStatus;
    tagPrefixList?: string[];
    tagPatternList?: string[];
    storageClass: 'standard' | 'archive';
    countType: CountType;
    countUnit?: 'days';
    countNumber: number;
  };
  action: { type: 'expire' } | { type: 'transition'; targetStorageClass: 'archive' };
}

/** What the evaluator needs to know of one image (a manifest with all its tags). */
export interface LifecycleImage {
  digest: Digest;
  tags: string[];
  pushedAt: Date;
  lastPulledAt?: Date;
  storageClass: StorageClass;
  /** When it last moved to ARCHIVE (for `sinceImageTransitioned`). */
  lastArchivedAt?: Date;
}

/** One decision of the evaluator: what happens to an image and which rule decided it. */
export interface LifecycleAction {
  digest: Digest;
  tags: string[];
  pushedAt: Date;
  storageClass: StorageClass;
  rulePriority: number;
  type: 'EXPIRE' | 'TRANSITION';
  targetStorageClass?: 'ARCHIVE';
}

/** An image's archive state; an image without one is ACTIVE in STANDARD. */
export interface ImageArchiveState {
  status: 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';
  lastArchivedAt?: Date;
  lastActivatedAt?: Date;
}

/** A repository as the lifecycle feature addresses it: by owner account and name. */
export interface RepoRef {
  accountId: string;
  name: string;
}

/** The lifecycle address of a repository key (the lifecycle tables key by account and name). */
export function refOf(key: RepoKey): RepoRef {
  return { accountId: repoAccount(key), name: repoName(key) };
}

/** The metadata key of a lifecycle address (MetaStore calls take keys). */
export function keyOf(ref: RepoRef): RepoKey {
  return repoKey(ref.accountId, ref.name);
}

export type PreviewStatus = 'IN_PROGRESS' | 'COMPLETE' | 'EXPIRED' | 'FAILED';

/** The lifecycle operations the ECR surface serves (implemented by the lifecycle feature). */
export interface LifecycleApi {
  /** Validates and stores the policy. Throws `InvalidParameter` naming the rule and field. */
  putPolicy(repo: RepoRef, text: string, signal: AbortSignal): Promise<void>;
  /** Throws `LifecyclePolicyNotFound`. */
  getPolicy(repo: RepoRef, signal: AbortSignal): Promise<{ text: string; lastEvaluatedAt?: Date }>;
  /** Removes and returns the policy. Throws `LifecyclePolicyNotFound`. */
  deletePolicy(repo: RepoRef, signal: AbortSignal): Promise<{ text: string; lastEvaluatedAt?: Date }>;
  /**
   * Starts a preview of `text` (default: the stored policy). Throws `LifecyclePolicyNotFound`,
   * `LifecyclePolicyPreviewInProgress`, `InvalidParameter`.
   */
  startPreview(repo: RepoRef, text: string | undefined, signal: AbortSignal): Promise<{ text: string; status: PreviewStatus }>;
  /** The latest preview, filtered and paged. Throws `LifecyclePolicyPreviewNotFound`. */
  getPreview(repo: RepoRef, query: PreviewQuery, signal: AbortSignal): Promise<PreviewPage>;
  /** Archive states of the repository's images that are not plain ACTIVE (for DescribeImages). */
  archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>>;
  /**
   * ECR `UpdateImageStorageClass`: ARCHIVE archives the image (status ARCHIVED); STANDARD restores
   * it (answers ACTIVATING; ACTIVE once restored). Throws `ImageNotFound`,
   * `ImageStorageClassUpdateNotSupported`. Resolves with the status to report.
   */
  updateStorageClass(repo: RepoRef, digest: Digest, target: StorageClass, signal: AbortSignal): Promise<ImageArchiveState['status']>;
  /** Registers a principal whose pulls do not update pull times. Throws `ExclusionAlreadyExists`. */
  registerPullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<Date>;
  /** Throws `ExclusionNotFound`. */
  deregisterPullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<void>;
  listPullTimeExclusions(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arns: string[]; next?: string }>;
}

export interface PreviewQuery {
  digests?: Digest[];
  tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY';
  after?: number;
  limit: number;
}

export interface PreviewPage {
  text: string;
  status: PreviewStatus;
  results: LifecycleAction[];
  next?: number;
  summary?: { expiring: number; transitioning: number };
}

/**
 * What pulls ask of the lifecycle feature: whether an image may be pulled (archived ones may not)
 * and whether a principal's pulls update `lastRecordedPullTime` (pull-time exclusions).
 */
export interface PullGate {
  /** Throws `ImageArchived` when the image is in the archive storage class. */
  assertPullable(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<void>;
  /** False when pulls by `principalArn` from `repository` must not update the pull time (the owning registry excludes it). */
  recordsPullsBy(repository: RepoKey, principalArn: string | undefined, signal: AbortSignal): Promise<boolean>;
}
