import type { EventBus } from '../core/events.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { ClaimedJob } from '../core/ports/job-queue.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import { repoKey } from '../core/repo-key.js';
import type { InventoryStore, ScanKey, ScanStore } from '../core/ports/scan-store.js';
import type { VulnDb, VulnDbInfo } from '../core/ports/vuln-db.js';
import { severityCounts, type Inventory, type ScanRecord } from '../core/scanning.js';
import type { JobHandler } from '../core/services/job-runner.js';
import { classifyManifest } from './classify.js';
import type { LayerLimits } from './layers/limits.js';
import { isScanError } from './scan-error.js';
import { DEFAULT_REGISTRY_SCANNING } from '../core/scanning.js';
import { completedDescription, reevaluateHandler } from './reevaluate.js';
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

/**
 * The scanning engine — layer reader, package database parsers, version comparators, CVSS — is
 * loaded by the first job that needs it rather than at every server start (issue 12).
 */
const engine = {
  reader: () => import('./image-reader.js'),
  matcher: () => import('./match/match.js'),
};

/** Job handlers of the scan module: scan one image; re-evaluate every continuously scanned image. */
export function scanHandlers(d: ScanWorkerDeps): Record<string, JobHandler> {
  const now = d.now ?? (() => new Date());

  /** Stores a finished scan and announces it. */
  async function finish(key: ScanKey, base: ScanRecord | undefined, patch: Pick<ScanRecord, 'status' | 'description' | 'findings'>, signal: AbortSignal, known?: { info: VulnDbInfo | undefined }): Promise<void> {
    const info = known ? known.info : await d.vulnDb.info(signal);
    const at = now();
    const firstObserved: Record<string, number> = {};
    for (const f of patch.findings) firstObserved[f.vulnerabilityId] = base?.firstObserved[f.vulnerabilityId] ?? at.getTime();
    const cfg = (await d.scans.getRegistryConfig(key.accountId, signal)) ?? DEFAULT_REGISTRY_SCANNING;
    const record: ScanRecord = {
      ...key, ...patch, scanType: cfg.scanType, startedAt: base?.startedAt ?? at, completedAt: at,
      ...(info ? { vulnSourceUpdatedAt: info.importedAt } : {}), firstObserved,
      // Only a complete match is a base for matching later changes alone.
      ...(patch.status === 'COMPLETE' && info?.version ? { evaluatedWith: info.version } : {}),
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
    const inventory = await (await engine.reader()).readInventory(kind.layers, d.blobs, d.limits, signal);
    await d.scans.putInventory(key.digest, inventory, signal);
    await d.onInventory?.(key, inventory, signal);
    return inventory;
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
    // The version is read before matching: should the database be swapped mid-match, the image
    // counts as matched against the older one, and the re-evaluation the swap queues covers the rest.
    const info = await d.vulnDb.info(signal);
    const findings = await (await engine.matcher()).matchInventory(inventory, d.vulnDb, signal);
    await finish(key, base, { status: 'COMPLETE', description: completedDescription(info, inventory), findings }, signal, { info });
  };

  const reevaluate = reevaluateHandler({ meta: d.meta, scans: d.scans, vulnDb: d.vulnDb, events: d.events, now });

  return { [SCAN_JOB]: scanImage, [REEVALUATE_JOB]: reevaluate };
}
