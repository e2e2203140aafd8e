import { fail } from './errors.js';
import type { RepositorySettings } from './ports/meta-store.js';
import { repoName, type RepoKey } from './repo-key.js';

/** ECR exclusion filters are wildcards: `*` matches any run of characters, everything else itself. */
function wildcard(filter: string): RegExp {
  return new RegExp(`^${filter.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether `tag` may be moved to another image under the repository's tag mutability setting. */
export function isTagMutable(settings: Pick<RepositorySettings, 'imageTagMutability' | 'imageTagMutabilityExclusionFilters'>, tag: string): boolean {
  const excluded = () => settings.imageTagMutabilityExclusionFilters.some((f) => wildcard(f.filter).test(tag));
  switch (settings.imageTagMutability) {
    case 'MUTABLE': return true;
    case 'IMMUTABLE': return false;
    // Excluded tags are the exception to the repository's rule.
    case 'IMMUTABLE_WITH_EXCLUSION': return excluded();
    case 'MUTABLE_WITH_EXCLUSION': return !excluded();
  }
}

/** Throws `ImageTagAlreadyExists` (ECR's wording) when `tag` may not move. */
export function assertTagMutable(repository: RepoKey, settings: RepositorySettings, tag: string): void {
  if (isTagMutable(settings, tag)) return;
  throw fail('ImageTagAlreadyExists', `The image tag '${tag}' already exists in the '${repoName(repository)}' repository and cannot be overwritten because the tag is immutable.`, { tag, repository: repoName(repository) });
}
