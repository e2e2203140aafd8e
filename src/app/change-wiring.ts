import type { Logger } from 'pino';
import type { IamAccessControl } from '../auth/iam-access.js';
import type { PolicySource } from '../auth/policy-source.js';
import type { EventBus } from '../core/events.js';
import type { ChangeFeed, ChangeTopic } from '../core/ports/change-feed.js';
import { parseRepoKey } from '../core/repo-key.js';
import type { ManifestService } from '../core/services/manifests.js';
import type { PublicRepositoryService } from '../core/services/public/public-repositories.js';
import type { ArchiveAndPullTimes } from '../lifecycle/archive.js';

/**
 * Connects this node's caches to the change feed, both ways:
 *
 * ```
 *  local write ── PolicySource.invalidate() ─────────► publish('policies', '*')
 *  local event ── manifest.deleted / repository.deleted ► publish('manifest' | 'repository', key)
 *  local event ── image.archived / image.restored ──────► publish('repository', key)
 *  local alias set (PublicRepositoryService) ──────────► publish('alias', '*')
 *  feed (any node) ── 'policies'   ──► policy cache + token principals + repository owners dropped
 *                 ── 'repository' ──► that repository's owner, manifests and archived digests dropped
 *                 ── 'alias'      ──► every cached alias owner dropped
 *                 ── 'manifest'   ──► that manifest dropped
 * ```
 *
 * Returns the unsubscribe function.
 */
export function wireCacheInvalidation(deps: {
  feed: ChangeFeed; events: EventBus; policies: PolicySource; manifests: ManifestService;
  access?: IamAccessControl; log: Pick<Logger, 'warn'>;
  archive?: Pick<ArchiveAndPullTimes, 'forgetArchived'>;
  aliases?: Pick<PublicRepositoryService, 'forgetAliases' | 'onAliasChange'>;
}): () => void {
  const { feed } = deps;
  const publish = (topic: ChangeTopic, key: string) => {
    feed.publish(topic, key).catch((err: unknown) => deps.log.warn({ err, topic }, 'could not publish a cache invalidation; other nodes fall back to their cache TTL'));
  };
  deps.policies.publishTo(() => publish('policies', '*'));
  if (deps.aliases) deps.aliases.onAliasChange = () => publish('alias', '*');
  const offs = [
    deps.events.subscribe((e) => {
      if (e.type === 'manifest.deleted') publish('manifest', `${e.repository}@${e.digest}`);
      else if (e.type === 'repository.deleted' || e.type === 'image.archived' || e.type === 'image.restored') publish('repository', e.repository);
    }),
    feed.subscribe('policies', () => deps.policies.forget()),
    feed.subscribe('repository', (key) => {
      const repo = key === undefined ? undefined : parseRepoKey(key);
      if (key !== undefined && repo === undefined) return;
      deps.access?.forgetRepository(repo);
      deps.manifests.forgetCached(repo);
      deps.archive?.forgetArchived(repo);
    }),
    feed.subscribe('alias', () => deps.aliases?.forgetAliases()),
    feed.subscribe('manifest', (key) => deps.manifests.forgetCached(key)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
