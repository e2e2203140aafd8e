import type { Digest } from '../core/digest.js';
import { fail } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { keyOf, refOf, type ImageArchiveState, type PullGate, type RepoRef, type StorageClass } from '../core/lifecycle.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import { repoAccount, repoName, type RepoKey } from '../core/repo-key.js';

/** How long a node trusts its copy of an account's pull-time exclusions (other nodes' changes show up within it). */
const EXCLUSIONS_TTL_MS = 10_000;

/**
 * The archive storage class and pull-time exclusions.
 *
 * Archive: an archived image stays listed (DescribeImages shows ARCHIVED with lastArchivedAt) but
 * its manifest is not served — `/v2` answers DENIED naming the restore command, BatchGetImage a
 * failure `ImageInaccessible` — until it is restored to STANDARD. berth keeps an archived image's
 * blobs where they are (layers are shared by digest with other images, and the local blob store
 * has no cheaper tier), so a restore completes at once: UpdateImageStorageClass answers ACTIVATING
 * as ECR does and the image reads ACTIVE, with lastActivatedAt, from then on.
 */
export class ArchiveAndPullTimes implements PullGate {
  readonly #exclusions = new Map<string, { arns: Set<string>; loadedAt: number }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly store: LifecycleStore,
    private readonly events: EventBus | undefined,
    private readonly clock: () => Date,
  ) {}

  async assertPullable(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<void> {
    if (!(await this.meta.getRepository(repository, signal))) return;
    const state = (await this.store.archiveStates(refOf(repository), signal)).get(digest);
    if (state && state.status !== 'ACTIVE') {
      const name = repoName(repository);
      throw fail('ImageArchived', `The image ${digest} in repository '${name}' is archived and cannot be pulled; restore it first with: aws ecr update-image-storage-class --registry-id ${repoAccount(repository)} --repository-name ${name} --image-id imageDigest=${digest} --target-storage-class STANDARD`);
    }
  }

  async recordsPullsBy(repository: RepoKey, principalArn: string | undefined, signal: AbortSignal): Promise<boolean> {
    // The exclusion list is a setting of the registry (account) that owns the repository pulled from.
    const accountId = repoAccount(repository);
    if (!principalArn) return true;
    let cached = this.#exclusions.get(accountId);
    if (!cached || Date.now() - cached.loadedAt > EXCLUSIONS_TTL_MS) {
      const arns = new Set<string>();
      let after: string | undefined;
      for (;;) {
        const page = await this.store.listPullTimeExclusions(accountId, { limit: 1000, ...(after ? { after } : {}) }, signal);
        for (const e of page) arns.add(e.arn);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.arn;
      }
      this.#exclusions.set(accountId, (cached = { arns, loadedAt: Date.now() }));
    }
    return !cached.arns.has(principalArn);
  }

  async archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>> {
    return this.store.archiveStates(repo, signal);
  }

  async updateStorageClass(repo: RepoRef, digest: Digest, target: StorageClass, signal: AbortSignal): Promise<ImageArchiveState['status']> {
    const current = (await this.store.archiveStates(repo, signal)).get(digest);
    const now = this.clock();
    if (target === 'ARCHIVE') {
      if (current?.status === 'ARCHIVED') return 'ARCHIVED';
      await this.store.setArchiveState(repo, digest, { status: 'ARCHIVED', lastArchivedAt: now, ...(current?.lastActivatedAt ? { lastActivatedAt: current.lastActivatedAt } : {}) }, signal);
      this.events?.emit({ type: 'image.archived', repository: keyOf(repo), digest, at: now });
      return 'ARCHIVED';
    }
    if (!current || current.status === 'ACTIVE') {
      // Check it exists (ImageNotFound) by writing its current state back unchanged.
      await this.store.setArchiveState(repo, digest, current ?? { status: 'ACTIVE' }, signal);
      return 'ACTIVE';
    }
    await this.store.setArchiveState(repo, digest, { status: 'ACTIVE', lastActivatedAt: now, ...(current.lastArchivedAt ? { lastArchivedAt: current.lastArchivedAt } : {}) }, signal);
    this.events?.emit({ type: 'image.restored', repository: keyOf(repo), digest, at: now });
    return 'ACTIVATING';
  }

  async register(accountId: string, principalArn: string, signal: AbortSignal): Promise<Date> {
    const at = this.clock();
    if (!(await this.store.addPullTimeExclusion(accountId, principalArn, at, signal))) {
      throw fail('ExclusionAlreadyExists', `The principal '${principalArn}' is already excluded from pull time updates in the registry with id '${accountId}'`);
    }
    this.#exclusions.delete(accountId);
    return at;
  }

  async deregister(accountId: string, principalArn: string, signal: AbortSignal): Promise<void> {
    if (!(await this.store.removePullTimeExclusion(accountId, principalArn, signal))) {
      throw fail('ExclusionNotFound', `The principal '${principalArn}' is not excluded from pull time updates in the registry with id '${accountId}'`);
    }
    this.#exclusions.delete(accountId);
  }

  async list(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arns: string[]; next?: string }> {
    const rows = await this.store.listPullTimeExclusions(accountId, { ...page, limit: page.limit + 1 }, signal);
    const arns = rows.slice(0, page.limit).map((r) => r.arn);
    return { arns, ...(rows.length > page.limit ? { next: arns[arns.length - 1]! } : {}) };
  }
}
