/**
 * The one lifecycle evaluator (images + policy + now → actions). The preview and the executor
 * both call it, so a preview shows exactly what a run at the same instant does.
 *
 * ECR's documented semantics ("Lifecycle policy evaluation rules"):
 *  - rules apply in rulePriority order, lowest number first; each only to images of its storage class;
 *  - a rule *identifies* every image its tag selection matches (tagged: every listed prefix/pattern
 *    matches at least one of the image's tags; untagged: no tags; any: all) and *marks* the
 *    identified images its count criterion selects;
 *  - an image identified by a higher-priority rule is never marked by a lower one (so an image is
 *    acted on by at most one rule), yet still counts when a lower rule keeps its newest N;
 *  - imageCountMoreThan keeps the N newest by push time and marks the rest; sinceImagePushed /
 *    sinceImagePulled / sinceImageTransitioned mark images older than N days by push time, last
 *    recorded pull (push time for never-pulled images) or archive time.
 */
import type { LifecycleAction, LifecycleImage, LifecyclePolicy, LifecycleRule } from '../core/lifecycle.js';

const DAY_MS = 86_400_000;

/** `*` matches any run of characters; everything else literally. The whole tag must match. */
function patternToRegExp(pattern: string): RegExp {
  const body = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's');
}

function tagMatcher(rule: LifecycleRule): (img: LifecycleImage) => boolean {
  const s = rule.selection;
  if (s.tagStatus === 'any') return () => true;
  if (s.tagStatus === 'untagged') return (img) => img.tags.length === 0;
  if (s.tagPrefixList) {
    const prefixes = s.tagPrefixList;
    return (img) => img.tags.length > 0 && prefixes.every((p) => img.tags.some((t) => t.startsWith(p)));
  }
  const patterns = (s.tagPatternList ?? []).map(patternToRegExp);
  return (img) => img.tags.length > 0 && patterns.every((re) => img.tags.some((t) => re.test(t)));
}

/** Newest first; equal push times fall back to digest order so the result never depends on input order. */
const newestFirst = (a: LifecycleImage, b: LifecycleImage): number =>
  b.pushedAt.getTime() - a.pushedAt.getTime() || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);

function selectedByCount(rule: LifecycleRule, identified: LifecycleImage[], now: Date): LifecycleImage[] {
  const { countType, countNumber } = rule.selection;
  if (countType === 'imageCountMoreThan') return [...identified].sort(newestFirst).slice(countNumber);
  const limit = now.getTime() - countNumber * DAY_MS;
  const since = (img: LifecycleImage): number | undefined => {
    if (countType === 'sinceImagePushed') return img.pushedAt.getTime();
    if (countType === 'sinceImagePulled') return (img.lastPulledAt ?? img.pushedAt).getTime();
    return img.lastArchivedAt?.getTime();
  };
  return identified.filter((img) => {
    const t = since(img);
    return t !== undefined && t < limit;
  });
}

/**
 * The actions `policy` takes on `images` at `now`, ordered by rule priority, then oldest push
 * first. Pure: no I/O, no clock of its own.
 */
export function evaluateLifecycle(policy: LifecyclePolicy, images: readonly LifecycleImage[], now: Date): LifecycleAction[] {
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const identifiedBefore = new Set<string>();
  const actions: LifecycleAction[] = [];
  for (const rule of rules) {
    const cls = rule.selection.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD';
    const matches = tagMatcher(rule);
    const identified = images.filter((img) => img.storageClass === cls && matches(img));
    const marked = selectedByCount(rule, identified, now)
      .filter((img) => !identifiedBefore.has(img.digest))
      .sort((a, b) => -newestFirst(a, b));
    for (const img of marked) {
      actions.push({
        digest: img.digest, tags: img.tags, pushedAt: img.pushedAt, storageClass: img.storageClass, rulePriority: rule.rulePriority,
        ...(rule.action.type === 'expire' ? { type: 'EXPIRE' as const } : { type: 'TRANSITION' as const, targetStorageClass: 'ARCHIVE' as const }),
      });
    }
    for (const img of identified) identifiedBefore.add(img.digest);
  }
  return actions;
}
