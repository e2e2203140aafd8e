import type { Repository } from '../core/ports/meta-store.js';
import type { RegistryScanningConfig, ScanFrequency, ScanningRule } from '../core/scanning.js';

/** ECR scanning filters are wildcards where `*` matches any run of characters (including `/`). */
export function matchesFilter(name: string, filter: string): boolean {
  const re = new RegExp(`^${filter.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

const ruleMatches = (rule: ScanningRule, name: string): boolean => rule.repositoryFilters.some((f) => matchesFilter(name, f.filter));

/**
 * The effective scan frequency of a repository, as ECR decides it: a matching CONTINUOUS_SCAN
 * rule wins over a matching SCAN_ON_PUSH rule; the repository's own `scanOnPush` (set by
 * CreateRepository or PutImageScanningConfiguration) also scans on push; otherwise MANUAL.
 */
export function effectiveScanning(config: RegistryScanningConfig, repo: Repository): { scanOnPush: boolean; scanFrequency: ScanFrequency; appliedScanFilters: ScanningRule['repositoryFilters'] } {
  const continuous = config.rules.find((r) => r.scanFrequency === 'CONTINUOUS_SCAN' && ruleMatches(r, repo.name));
  if (continuous) return { scanOnPush: true, scanFrequency: 'CONTINUOUS_SCAN', appliedScanFilters: continuous.repositoryFilters };
  const onPush = config.rules.find((r) => r.scanFrequency === 'SCAN_ON_PUSH' && ruleMatches(r, repo.name));
  if (onPush) return { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: onPush.repositoryFilters };
  if (repo.settings.scanOnPush) return { scanOnPush: true, scanFrequency: 'SCAN_ON_PUSH', appliedScanFilters: [] };
  return { scanOnPush: false, scanFrequency: 'MANUAL', appliedScanFilters: [] };
}
