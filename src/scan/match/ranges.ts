import type { OsvAffected, OsvEvent } from '../../core/ports/vuln-db.js';
import type { Compare } from '../versions/index.js';

const eventVersion = (e: OsvEvent): string => e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '0';

/**
 * Whether `version` is affected by one OSV `affected` entry, and the fix to name: the explicit
 * `versions` list, then each ECOSYSTEM/SEMVER range evaluated as the OSV schema describes (events
 * in version order; `introduced` opens, `fixed` closes before, `last_affected` closes after,
 * `limit` bounds). GIT ranges need commit history and are skipped. Without a comparator only the
 * `versions` list can match.
 */
export function evaluateAffected(a: OsvAffected, version: string, cmp: Compare | undefined): { affected: boolean; fixed?: string } {
  if (a.versions?.includes(version)) return { affected: true, ...fixedAbove(a, version, cmp) };
  if (!cmp) return { affected: false };
  for (const range of a.ranges ?? []) {
    if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') continue;
    const events = [...range.events].sort((x, y) => {
      const vx = eventVersion(x);
      const vy = eventVersion(y);
      if (vx === vy) return 0;
      if (x.introduced === '0') return -1;
      if (y.introduced === '0') return 1;
      return cmp(vx, vy);
    });
    const limits = events.filter((e) => e.limit !== undefined && e.limit !== '*');
    if (limits.length > 0 && limits.every((e) => cmp(version, e.limit!) >= 0)) continue;
    let affected = false;
    let fixed: string | undefined;
    for (const e of events) {
      if (e.introduced !== undefined) {
        if (e.introduced === '0' || cmp(version, e.introduced) >= 0) affected = true;
      } else if (e.fixed !== undefined) {
        if (cmp(version, e.fixed) >= 0) affected = false;
        else if (affected && fixed === undefined) fixed = e.fixed;
      } else if (e.last_affected !== undefined) {
        if (cmp(version, e.last_affected) > 0) affected = false;
      }
      if (!affected) fixed = undefined;
    }
    if (affected) return { affected: true, ...(fixed !== undefined ? { fixed } : {}) };
  }
  return { affected: false };
}

/** For a `versions`-list match: the lowest `fixed` event above the version, if any range names one. */
function fixedAbove(a: OsvAffected, version: string, cmp: Compare | undefined): { fixed?: string } {
  if (!cmp) return {};
  const fixes = (a.ranges ?? []).flatMap((r) => r.events.map((e) => e.fixed)).filter((f): f is string => f !== undefined && cmp(f, version) > 0);
  fixes.sort(cmp);
  return fixes[0] !== undefined ? { fixed: fixes[0] } : {};
}
