import type { Digest } from '../core/digest.js';
import { keyOf, type ImageArchiveState, type LifecycleImage, type RepoRef } from '../core/lifecycle.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { ImageDetail, MetaStore } from '../core/ports/meta-store.js';

const PAGE = 1000;

/** Every image of a repository as the evaluator sees it: tags, push and pull times, storage class. */
export async function loadImages(meta: MetaStore, store: LifecycleStore, repo: RepoRef, signal: AbortSignal): Promise<LifecycleImage[]> {
  const states = await store.archiveStates(repo, signal);
  const out: LifecycleImage[] = [];
  let after: string | undefined;
  do {
    const page: { images: ImageDetail[]; next?: string } = await meta.describeImages(keyOf(repo), { limit: PAGE, ...(after ? { after } : {}) }, signal);
    for (const d of page.images) out.push(toImage(d, states.get(d.digest)));
    after = page.next;
  } while (after);
  return out;
}

/** An image in ARCHIVED or ACTIVATING state is in the archive class until it is ACTIVE again. */
export function toImage(d: ImageDetail, state: ImageArchiveState | undefined): LifecycleImage {
  return {
    digest: d.digest as Digest, tags: d.tags, pushedAt: d.pushedAt,
    ...(d.lastPulledAt ? { lastPulledAt: d.lastPulledAt } : {}),
    storageClass: state && state.status !== 'ACTIVE' ? 'ARCHIVE' : 'STANDARD',
    ...(state?.lastArchivedAt ? { lastArchivedAt: state.lastArchivedAt } : {}),
  };
}
