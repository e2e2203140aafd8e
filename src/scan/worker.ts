import type { Digest } from '../core/digest.js';
import type { EventBus } from '../core/events.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { ClaimedJob } from '../core/ports/job-queue.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import { repoKey } from '../core/repo-key.js';
import type { InventoryStore, ScanKey, ScanStore } from '../core/ports/scan-store.js';
import type { VulnDb } from '../core/ports/vuln-db.js';
import { severityCounts, type Inventory, type ScanRecord } from '../core/scanning.js';
import type { JobHandler } from '../core/services/job-runner.js';
import { effectiveScanning } from './config.js';
import { classifyManifest, readInventory } from './image-reader.js';
import type { LayerLimits } from './layers/read-layer.js';
import { matchInventory } from './match/match.js';
import { memoizedVulnDb } from './match/memo.js';
import { isScanError } from './scan-error.js';
import { DEFAULT_REGISTRY_SCANNING } from '../core/scanning.js';
import { REEVALUATE_JOB, SCAN_JOB, type ScanJobPayload } from './service.js';

export interface ScanWorkerDeps {
  meta: MetaStore;
  blobs: BlobStore;
  scans: ScanStore & InventoryStore;
  vulnDb: VulnDb;
  events: EventBus;
  limits: LayerLimits;
  /** Called with each freshly read inventory (the SBOM attachment hooks in here). */
  onInventory?: (key: ScanKey, inventory: Inventory, signal: AbortSignal) => Promise<void>;
  now?: () => Date;
  /** Picks up a newer vulnerability database before a scan (and queues re-evaluation if it changed). */
  refreshVulnDb?: (signal: AbortSignal) => Promise<void>;
}

/** Job handlers of the scan module: scan one image; re-evaluate every continuously scanned image. */
export function scanHandlers(d: ScanWorkerDeps): Record<string, JobHandler> {
  const now = d.now ?? (() => new Date());

  /** Stores a finished scan and announces it. */
  async function finish(key: ScanKey, base: ScanRecord | undefined, patch: Pick<ScanRecord, 'status' | 'description' | 'findings'>, signal: AbortSignal, known?: { info: Awaited<ReturnType<VulnDb['info']>> }): Promise<void> {
    const info = known ? known.info : await d.vulnDb.info(signal);
    const at = now();
    const firstObserved: Record<string, number> = {};
    for (const f of patch.findings) firstObserved[f.vulnerabilityId] = base?.firstObserved[f.vulnerabilityId] ?? at.getTime();
    const cfg = (await d.scans.getRegistryConfig(key.accountId, signal)) ?? DEFAULT_REGISTRY_SCANNING;
    const record: ScanRecord = {
      ...key, ...patch, scanType: cfg.scanType, startedAt: base?.startedAt ?? at, completedAt: at,
      ...(info ? { vulnSourceUpdatedAt: info.importedAt } : {}), firstObserved,
    };
    await d.scans.putScan(record, signal);
    d.events.emit({
      type: 'image.scanned', accountId: key.accountId, repository: repoKey(key.accountId, key.repository), digest: key.digest,
      status: patch.status === 'COMPLETE' ? 'COMPLETE' : 'FAILED', findingSeverityCounts: severityCounts(patch.findings) as Record<string, number>, at,
    });
  }

  async function inventoryOf(key: ScanKey, signal: AbortSignal): Promise<Inventory | { unsupported: string }> {
    const stored = await d.scans.getInventory(key.digest, signal);
    if (stored) return stored;
    const manifest = await d.meta.getManifest(repoKey(key.accountId, key.repository), key.digest, signal);
    if (!manifest) return { unsupported: 'The image no longer exists.' };
    const kind = classifyManifest(manifest.body, manifest.mediaType);
    if (kind.kind !== 'image') return { unsupported: kind.kind === 'index' ? 'An image index is scanned per platform image.' : kind.reason };
    const inventory = await readInventory(kind.layers, d.blobs, d.limits, signal);
    await d.scans.putInventory(key.digest, inventory, signal);
    await d.onInventory?.(key, inventory, signal);
    return inventory;
  }

  async function describe(inventory: Inventory, signal: AbortSignal): Promise<string> {
    const info = await d.vulnDb.info(signal);
    const notes = inventory.notes.length ? ` Notes: ${inventory.notes.join('; ')}.` : '';
    if (!info) return `The scan completed with no vulnerability database loaded (run berth vulndb import).${notes}`;
    return `The scan was completed successfully.${notes}`;
  }

  const scanImage: JobHandler = async (job: ClaimedJob, signal) => {
    const key = job.payload as ScanJobPayload;
    // A `berth vulndb import` may have swapped the database since the last look.
    await d.refreshVulnDb?.(signal);
    const base = await d.scans.getScan(key, signal);
    let inventory: Inventory | { unsupported: string };
    try {
      inventory = await inventoryOf(key, signal);
    } catch (err) {
      if (!isScanError(err)) throw err;
      await finish(key, base, { status: 'FAILED', description: `The scan failed: ${err.message}`, findings: [] }, signal);
      return;
    }
    if ('unsupported' in inventory) {
      await d.scans.putScan({ ...(base ?? { ...key, scanType: 'BASIC', startedAt: now(), firstObserved: {} }), ...key, status: 'UNSUPPORTED_IMAGE', description: inventory.unsupported, findings: [], completedAt: now() }, signal);
      return;
    }
    const findings = await matchInventory(inventory, d.vulnDb, signal);
    await finish(key, base, { status: 'COMPLETE', description: await describe(inventory, signal), findings }, signal);
  };

  /** Re-matches the stored inventory of every completed scan in a CONTINUOUS_SCAN repository. */
  const reevaluate: JobHandler = async (_job, signal) => {
    let after: ScanKey | undefined;
    const configs = new Map<string, Awaited<ReturnType<ScanStore['getRegistryConfig']>>>();
    const db = memoizedVulnDb(d.vulnDb);
    const info = await d.vulnDb.info(signal);
    const description = (inventory: Inventory): string => (info ? `The scan was completed successfully.${inventory.notes.length ? ` Notes: ${inventory.notes.join('; ')}.` : ''}` : 'The scan completed with no vulnerability database loaded (run berth vulndb import).');
    for (;;) {
      const page = await d.scans.listCompleted(after, 200, signal);
      for (const key of page) {
        if (!configs.has(key.accountId)) configs.set(key.accountId, await d.scans.getRegistryConfig(key.accountId, signal));
        const repo = await d.meta.getRepository(repoKey(key.accountId, key.repository), signal);
        if (!repo || effectiveScanning(configs.get(key.accountId) ?? DEFAULT_REGISTRY_SCANNING, repo).scanFrequency !== 'CONTINUOUS_SCAN') continue;
        const inventory = await d.scans.getInventory(key.digest as Digest, signal);
        if (!inventory) continue;
        const base = await d.scans.getScan(key, signal);
        const findings = await matchInventory(inventory, db, signal);
        await finish(key, base, { status: 'COMPLETE', description: description(inventory), findings }, signal, { info });
      }
      if (page.length < 200) return;
      after = page[page.length - 1];
    }
  };

  return { [SCAN_JOB]: scanImage, [REEVALUATE_JOB]: reevaluate };
}
