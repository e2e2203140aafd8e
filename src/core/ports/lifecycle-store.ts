import type { Digest } from '../digest.js';
import type { ImageArchiveState, LifecycleAction, PreviewStatus, RepoRef } from '../lifecycle.js';

/**
 * Lifecycle state beside the metadata store: each repository's policy with what its last run did,
 * the latest policy preview, the archive state of images, and the principals whose pulls do not
 * update `lastRecordedPullTime`.
 *
 * ```
 *  repositories ─┬─< lifecycle_policies    (repository) · text · updated_at · last_evaluated_at
 *                │                          · last_expired · last_transitioned
 *                ├─< lifecycle_previews    (repository) · status · text · started_at · results (json)
 *                └─< manifests ─< image_archive  (repository, digest) · status · last_archived_at
 *                                                 · last_activated_at
 *  pull_time_exclusions   (account, principal arn) · created_at
 * ```
 *
 * Rows keyed by a repository go with it (and archive rows with their manifest). Every write is
 * atomic and visible to every reader as soon as it resolves.
 */
export interface LifecycleStore {
  /** The stored policy, or `undefined`. */
  getPolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined>;

  /** Sets the policy text (already validated). Throws `RepositoryNotFound`. */
  putPolicy(repo: RepoRef, text: string, at: Date, signal: AbortSignal): Promise<void>;

  /** Removes the policy; resolves with what was removed, or `undefined` when there was none. */
  deletePolicy(repo: RepoRef, signal: AbortSignal): Promise<StoredPolicy | undefined>;

  /** Records a run of the policy (a no-op when the policy is gone meanwhile). */
  recordRun(repo: RepoRef, run: { at: Date; expired: number; transitioned: number }, signal: AbortSignal): Promise<void>;

  /** Every repository with a policy, in (account, name) order. */
  listPolicies(signal: AbortSignal): Promise<(StoredPolicy & { repo: RepoRef })[]>;

  /** The latest preview, or `undefined`. */
  getPreview(repo: RepoRef, signal: AbortSignal): Promise<StoredPreview | undefined>;

  /**
   * Starts a preview (status IN_PROGRESS, no results), atomically refusing with `false` while
   * another one is IN_PROGRESS and started after `staleBefore`. Throws `RepositoryNotFound`.
   */
  beginPreview(repo: RepoRef, text: string, at: Date, staleBefore: Date, signal: AbortSignal): Promise<boolean>;

  /** Ends the preview started at `startedAt` (a no-op if a newer one replaced it). */
  finishPreview(repo: RepoRef, startedAt: Date, status: PreviewStatus, results: LifecycleAction[], signal: AbortSignal): Promise<void>;

  /** Archive states of the repository's images that are not plain ACTIVE, by digest. */
  archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>>;

  /** Sets an image's archive state. Throws `ImageNotFound` when the manifest does not exist. */
  setArchiveState(repo: RepoRef, digest: Digest, state: ImageArchiveState, signal: AbortSignal): Promise<void>;

  /** Registers a principal ARN; resolves `false` when it already was. */
  addPullTimeExclusion(accountId: string, principalArn: string, at: Date, signal: AbortSignal): Promise<boolean>;

  /** Deregisters a principal ARN; resolves `false` when it was not registered. */
  removePullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<boolean>;

  /** Registered principal ARNs of the account in byte order, after `after`, at most `limit`. */
  listPullTimeExclusions(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arn: string; createdAt: Date }[]>;

  close(): Promise<void>;
}

export interface StoredPolicy {
  text: string;
  updatedAt: Date;
  lastEvaluatedAt?: Date;
  lastExpired?: number;
  lastTransitioned?: number;
}

export interface StoredPreview {
  text: string;
  status: PreviewStatus;
  startedAt: Date;
  results: LifecycleAction[];
}
