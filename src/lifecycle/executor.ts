import type { EventBus } from '../core/events.js';
import { keyOf, type LifecycleAction, type RepoRef } from '../core/lifecycle.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import type { EcrImageService } from '../core/services/ecr/images.js';
import { evaluateLifecycle } from './evaluate.js';
import { loadImages } from './images.js';
import { parseLifecyclePolicy } from './policy.js';

export interface RepositoryRun {
  repository: RepoRef;
  actions: LifecycleAction[];
  expired: number;
  transitioned: number;
  /** Actions that could not be applied (e.g. an image an index still lists), with the reason. */
  skipped: { digest: string; reason: string }[];
  error?: string;
}

/**
 * Applies lifecycle policies: evaluates each policy with the same function the preview uses, then
 * expires images through the very path of `BatchDeleteImage` (so tags, events and index rules are
 * the same as a user's delete) and moves transitioned images to the archive class. Idempotent: a
 * second run at the same instant finds nothing left to do; two nodes running at once at worst
 * both try a delete, and the second finds the image gone.
 */
export class LifecycleExecutor {
  constructor(
    private readonly meta: MetaStore,
    private readonly store: LifecycleStore,
    private readonly images: EcrImageService,
    private readonly events: EventBus,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Runs every policy (or only `repository`'s, in `accountId` or every account). With `dryRun`, reports what would happen and changes nothing. */
  async run(opts: { repository?: string; accountId?: string; dryRun?: boolean }, signal: AbortSignal): Promise<RepositoryRun[]> {
    const policies = (await this.store.listPolicies(signal))
      .filter((p) => (opts.repository === undefined || p.repo.name === opts.repository) && (opts.accountId === undefined || p.repo.accountId === opts.accountId));
    const out: RepositoryRun[] = [];
    for (const p of policies) {
      signal.throwIfAborted();
      out.push(await this.#runOne(p.repo, p.text, opts.dryRun ?? false, signal));
    }
    return out;
  }

  async #runOne(repo: RepoRef, text: string, dryRun: boolean, signal: AbortSignal): Promise<RepositoryRun> {
    const now = this.clock();
    const result: RepositoryRun = { repository: repo, actions: [], expired: 0, transitioned: 0, skipped: [] };
    try {
      result.actions = evaluateLifecycle(parseLifecyclePolicy(text), await loadImages(this.meta, this.store, repo, signal), now);
    } catch (err) {
      return { ...result, error: err instanceof Error ? err.message : String(err) };
    }
    if (dryRun) return result;
    for (const a of result.actions) {
      signal.throwIfAborted();
      if (a.type === 'EXPIRE') {
        const r = await this.images.batchDelete(keyOf(repo), [{ imageDigest: a.digest }], signal);
        if (r.deleted.length) result.expired++;
        else result.skipped.push({ digest: a.digest, reason: r.failures[0]?.failureReason ?? 'not deleted' });
      } else {
        await this.store.setArchiveState(repo, a.digest, { status: 'ARCHIVED', lastArchivedAt: now }, signal);
        this.events.emit({ type: 'image.archived', repository: keyOf(repo), digest: a.digest, at: now });
        result.transitioned++;
      }
    }
    await this.store.recordRun(repo, { at: now, expired: result.expired, transitioned: result.transitioned }, signal);
    this.events.emit({ type: 'lifecycle.applied', repository: keyOf(repo), expired: result.expired, transitioned: result.transitioned, at: now });
    return result;
  }
}
