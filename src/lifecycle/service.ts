import type { Digest } from '../core/digest.js';
import { fail } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import type { ImageArchiveState, LifecycleAction, LifecycleApi, PreviewPage, PreviewQuery, PreviewStatus, RepoRef, StorageClass } from '../core/lifecycle.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import { ArchiveAndPullTimes } from './archive.js';
import { evaluateLifecycle } from './evaluate.js';
import { loadImages } from './images.js';
import { parseLifecyclePolicy } from './policy.js';

/** A preview still IN_PROGRESS after this long died with its process; it reads as FAILED and may be restarted. */
const PREVIEW_STALE_MS = 5 * 60_000;

const notFound = (repo: RepoRef) =>
  fail('LifecyclePolicyNotFound', `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`);

/**
 * ECR's lifecycle operations. A preview is computed in this process right after `startPreview`
 * answers (IN_PROGRESS), by the same evaluator the executor runs, over the images as they are then.
 */
export class LifecycleService implements LifecycleApi {
  readonly #running = new Set<Promise<void>>();
  /** Archive storage class and pull-time exclusions; also the pull gate of the manifest service. */
  readonly pulls: ArchiveAndPullTimes;

  constructor(
    private readonly meta: MetaStore,
    private readonly store: LifecycleStore,
    private readonly clock: () => Date = () => new Date(),
    private readonly onError: (err: unknown) => void = () => {},
    events?: EventBus,
  ) {
    this.pulls = new ArchiveAndPullTimes(meta, store, events, clock);
  }

  archiveStates(repo: RepoRef, signal: AbortSignal): Promise<Map<Digest, ImageArchiveState>> {
    return this.pulls.archiveStates(repo, signal);
  }

  updateStorageClass(repo: RepoRef, digest: Digest, target: StorageClass, signal: AbortSignal): Promise<ImageArchiveState['status']> {
    return this.pulls.updateStorageClass(repo, digest, target, signal);
  }

  registerPullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<Date> {
    return this.pulls.register(accountId, principalArn, signal);
  }

  deregisterPullTimeExclusion(accountId: string, principalArn: string, signal: AbortSignal): Promise<void> {
    return this.pulls.deregister(accountId, principalArn, signal);
  }

  listPullTimeExclusions(accountId: string, page: { after?: string; limit: number }, signal: AbortSignal): Promise<{ arns: string[]; next?: string }> {
    return this.pulls.list(accountId, page, signal);
  }

  async putPolicy(repo: RepoRef, text: string, signal: AbortSignal): Promise<void> {
    parseLifecyclePolicy(text);
    await this.store.putPolicy(repo, text, this.clock(), signal);
  }

  async getPolicy(repo: RepoRef, signal: AbortSignal): Promise<{ text: string; lastEvaluatedAt?: Date }> {
    const p = await this.store.getPolicy(repo, signal);
    if (!p) throw notFound(repo);
    return { text: p.text, ...(p.lastEvaluatedAt ? { lastEvaluatedAt: p.lastEvaluatedAt } : {}) };
  }

  async deletePolicy(repo: RepoRef, signal: AbortSignal): Promise<{ text: string; lastEvaluatedAt?: Date }> {
    const p = await this.store.deletePolicy(repo, signal);
    if (!p) throw notFound(repo);
    return { text: p.text, ...(p.lastEvaluatedAt ? { lastEvaluatedAt: p.lastEvaluatedAt } : {}) };
  }

  async startPreview(repo: RepoRef, text: string | undefined, signal: AbortSignal): Promise<{ text: string; status: PreviewStatus }> {
    const policyText = text ?? (await this.store.getPolicy(repo, signal))?.text;
    if (policyText === undefined) throw notFound(repo);
    const policy = parseLifecyclePolicy(policyText);
    const startedAt = this.clock();
    if (!(await this.store.beginPreview(repo, policyText, startedAt, new Date(startedAt.getTime() - PREVIEW_STALE_MS), signal))) {
      throw fail('LifecyclePolicyPreviewInProgress', `The previous lifecycle policy preview request has not completed. Please try again later.`);
    }
    // Detached from the request: the preview outlives the call that started it.
    const work = (async () => {
      const bg = AbortSignal.timeout(PREVIEW_STALE_MS);
      try {
        const actions = evaluateLifecycle(policy, await loadImages(this.meta, this.store, repo, bg), startedAt);
        await this.store.finishPreview(repo, startedAt, 'COMPLETE', actions, bg);
      } catch (err) {
        this.onError(err);
        await this.store.finishPreview(repo, startedAt, 'FAILED', [], bg).catch(this.onError);
      }
    })();
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
    return { text: policyText, status: 'IN_PROGRESS' };
  }

  async getPreview(repo: RepoRef, query: PreviewQuery, signal: AbortSignal): Promise<PreviewPage> {
    const p = await this.store.getPreview(repo, signal);
    if (!p) {
      throw fail('LifecyclePolicyPreviewNotFound', `There is no dry run for the repository with name '${repo.name}' in the registry with id '${repo.accountId}'`);
    }
    const stale = p.status === 'IN_PROGRESS' && p.startedAt.getTime() < this.clock().getTime() - PREVIEW_STALE_MS;
    const status: PreviewStatus = stale ? 'FAILED' : p.status;
    if (status !== 'COMPLETE') return { text: p.text, status, results: [] };
    let results: LifecycleAction[] = p.results;
    if (query.digests) {
      const wanted = new Set<Digest>(query.digests);
      results = results.filter((a) => wanted.has(a.digest));
    }
    if (query.tagStatus === 'TAGGED') results = results.filter((a) => a.tags.length > 0);
    if (query.tagStatus === 'UNTAGGED') results = results.filter((a) => a.tags.length === 0);
    const start = query.after ?? 0;
    const page = results.slice(start, start + query.limit);
    return {
      text: p.text, status, results: page,
      ...(start + query.limit < results.length ? { next: start + query.limit } : {}),
      summary: {
        expiring: p.results.filter((a) => a.type === 'EXPIRE').length,
        transitioning: p.results.filter((a) => a.type === 'TRANSITION').length,
      },
    };
  }

  /** Resolves once every preview started so far has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
}
