import { isDeepStrictEqual } from 'node:util';
import type { EventBus } from '../core/events.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import type { CompletedScan, InventoryStore, ScanRevision, ScanStore, ScanTouch, SeverityCounts } from '../core/ports/scan-store.js';
import type { VulnDb, VulnDbInfo } from '../core/ports/vuln-db.js';
import { repoKey } from '../core/repo-key.js';
import { DEFAULT_REGISTRY_SCANNING, severityCounts, type Finding, type Inventory, type RegistryScanningConfig, type ScanRecord, type VulnDbVersion } from '../core/scanning.js';
import type { JobHandler } from '../core/services/job-runner.js';
import { effectiveScanning } from './config.js';
import { changesDb, type ChangeSet } from './match/changes.js';
import { memoizedVulnDb } from './match/memo.js';

export interface ReevaluateDeps {
  meta: MetaStore;
  scans: ScanStore & InventoryStore;
  vulnDb: VulnDb;
  events: EventBus;
  now: () => Date;
}

/**
 * Scans per page of the pass; each page's writes are one transaction. Below the scan stores' cache
 * of parsed inventories (32), so writing a page finds every inventory its reads just parsed.
 */
const PAGE = 25;
/** Passes in one job while the database keeps changing under it. */
const MAX_PASSES = 3;

/** The description a completed scan carries (the same words a first scan writes). */
export function completedDescription(info: VulnDbInfo | undefined, inventory: Inventory): string {
  const notes = inventory.notes.length ? ` Notes: ${inventory.notes.join('; ')}.` : '';
  if (!info) return `The scan completed with no vulnerability database loaded (run berth vulndb import).${notes}`;
  return `The scan was completed successfully.${notes}`;
}

/**
 * Re-matches the stored inventory of every completed scan in a CONTINUOUS_SCAN repository
 * against the current database. An image last matched against an earlier import of the same
 * chain is matched only against the records changed since (the findings of other records cannot
 * change), and then only its packages a changed record names (an image with none, by its stored
 * lookup names, is not read at all): its findings are rewritten when that changes them, otherwise
 * it is only marked re-evaluated (completion time, `vulnerabilitySourceUpdatedAt`). Anything else
 * is matched in full. Either way the findings equal those of a full match; test/scan/reevaluate.test.ts proves it.
 */
export function reevaluateHandler(d: ReevaluateDeps): JobHandler {
  return async (_job, signal) => {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const info = await d.vulnDb.info(signal);
      await reevaluateAll(d, info, signal);
      // A database swapped in during the pass: its own re-evaluation job was folded into this
      // running one (same dedupe key), so catch up here.
      const after = await d.vulnDb.info(signal);
      if (isDeepStrictEqual(after?.version, info?.version) && after?.importedAt.getTime() === info?.importedAt.getTime()) return;
    }
  };
}

async function reevaluateAll(d: ReevaluateDeps, info: VulnDbInfo | undefined, signal: AbortSignal): Promise<void> {
  // The matcher loads with the first job that needs it, not at server start (issue 12).
  const { matchInventory } = await import('./match/match.js');
  const db = memoizedVulnDb(d.vulnDb);
  const current = info?.version;
  const configs = new Map<string, RegistryScanningConfig>();
  const changeSets = new Map<string, ChangeSet | undefined>();
  const changesFor = async (since: VulnDbVersion): Promise<ChangeSet | undefined> => {
    const k = `${since.importId}:${since.generation}`;
    if (!changeSets.has(k)) {
      const c = await d.vulnDb.changedSince(since, signal);
      changeSets.set(k, c ? changesDb(c) : undefined);
    }
    return changeSets.get(k);
  };
  // Images of one base share their inventory object (the store parses identical ones once): match
  // each inventory once per pass, in full or against one change set.
  const matches = new WeakMap<Inventory, Map<ChangeSet | undefined, Promise<Finding[]>>>();
  const matchOnce = (inventory: Inventory, changes: ChangeSet | undefined): Promise<Finding[]> => {
    let byChanges = matches.get(inventory);
    if (!byChanges) matches.set(inventory, (byChanges = new Map()));
    let m = byChanges.get(changes);
    if (!m) {
      // Against a change set, only the packages a changed record names can be matched (most images
      // contain few): matching those alone gives the same findings at a fraction of the cost.
      const target = changes ? { ...inventory, packages: changes.named(inventory) } : inventory;
      byChanges.set(changes, (m = target.packages.length === 0 ? Promise.resolve([]) : matchInventory(target, changes ? changes.db : db, signal)));
    }
    return m;
  };
  let after: CompletedScan | undefined;
  for (;;) {
    const page = await d.scans.listCompleted(after, PAGE, signal);
    const writes: ScanRecord[] = [];
    const revisions: ScanRevision[] = [];
    const touches: ScanTouch[] = [];
    const events: (() => void)[] = [];
    const at = d.now();
    const stamp = { completedAt: at, ...(info ? { vulnSourceUpdatedAt: info.importedAt } : {}), ...(current ? { evaluatedWith: current } : {}) };
    for (const item of page) {
      const { evaluatedWith, ...key } = item;
      let cfg = configs.get(key.accountId);
      if (!cfg) configs.set(key.accountId, (cfg = (await d.scans.getRegistryConfig(key.accountId, signal)) ?? DEFAULT_REGISTRY_SCANNING));
      const repo = await d.meta.getRepository(repoKey(key.accountId, key.repository), signal);
      if (!repo || effectiveScanning(cfg, repo).scanFrequency !== 'CONTINUOUS_SCAN') continue;
      const changes = current && evaluatedWith ? await changesFor(evaluatedWith) : undefined;
      if (changes) {
        // No changed record names a package of the image (by its stored names, without reading
        // the inventory): no finding of a changed record, so the scan is only marked re-evaluated
        // unless it holds findings of those records (then it is revised below).
        const names = await d.scans.getInventoryNames(key.digest, signal);
        if (names && !changes.mayName(names)) {
          const stored = await d.scans.getRevisable(key, changes.ids, signal);
          if (!stored) continue;
          if (stored.changed.length === 0) {
            touches.push({ key, ...stamp, scanType: cfg.scanType });
            events.push(() => emit(d.events, key, stored.counts, at));
            continue;
          }
        }
      }
      const inventory = await d.scans.getInventory(key.digest, signal);
      if (!inventory) continue;
      if (changes) {
        // Only the findings of the changed records can differ: compare those, and either mark the
        // scan re-evaluated or have the store replace just them (the rest stays as stored).
        const fresh = await matchOnce(inventory, changes);
        const stored = await d.scans.getRevisable(key, changes.ids, signal);
        if (!stored) continue;
        if (isDeepStrictEqual(stored.changed, fresh)) {
          touches.push({ key, ...stamp, scanType: cfg.scanType });
          events.push(() => emit(d.events, key, stored.counts, at));
        } else {
          revisions.push({ key, ids: changes.ids, fresh, description: completedDescription(info, inventory), ...stamp, scanType: cfg.scanType });
        }
        continue;
      }
      const base = await d.scans.getScan(key, signal);
      if (!base || base.status !== 'COMPLETE') continue;
      const findings = await matchOnce(inventory, undefined);
      const firstObserved: Record<string, number> = {};
      for (const f of findings) firstObserved[f.vulnerabilityId] = base.firstObserved[f.vulnerabilityId] ?? at.getTime();
      writes.push({
        ...key, status: 'COMPLETE', description: completedDescription(info, inventory), findings, ...stamp, scanType: cfg.scanType,
        startedAt: base.startedAt, firstObserved,
      });
      events.push(() => emit(d.events, key, severityCounts(findings), at));
    }
    await d.scans.putScans(writes, signal);
    const revised = await d.scans.reviseScans(revisions, signal);
    revisions.forEach((v, i) => {
      const counts = revised[i];
      if (counts) events.push(() => emit(d.events, v.key, counts, at));
    });
    await d.scans.touchScans(touches, signal);
    for (const e of events) e();
    if (page.length < PAGE) return;
    after = page[page.length - 1];
  }
}

function emit(events: EventBus, key: { accountId: string; repository: string; digest: ScanRecord['digest'] }, counts: SeverityCounts, at: Date): void {
  events.emit({
    type: 'image.scanned', accountId: key.accountId, repository: repoKey(key.accountId, key.repository), digest: key.digest,
    status: 'COMPLETE', findingSeverityCounts: counts as Record<string, number>, at,
  });
}
