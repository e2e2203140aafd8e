import type { BlobStore } from '../core/ports/blob-store.js';
import type { EventBus } from '../core/events.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import { repoAccount, repoName } from '../core/repo-key.js';
import type { InventoryStore, ScanKey, ScanStore } from '../core/ports/scan-store.js';
import type { VulnDb } from '../core/ports/vuln-db.js';
import type { Inventory } from '../core/scanning.js';
import { JobRunner } from '../core/services/job-runner.js';
import { DEFAULT_LAYER_LIMITS, type LayerLimits } from './layers/limits.js';
import { ScanService } from './service.js';
import { scanHandlers } from './worker.js';

export interface ScanModuleDeps {
  meta: MetaStore;
  blobs: BlobStore;
  scans: ScanStore & InventoryStore;
  jobs: JobQueue;
  vulnDb: VulnDb;
  events: EventBus;
  /** Unique per process (leases are held in its name). */
  workerId: string;
  limits?: LayerLimits;
  /** Scans run at once by this process. */
  concurrency?: number;
  /** How often the vulnerability database file is checked for a newer import. */
  vulnDbPollMs?: number;
  /** Called with each freshly read inventory (SBOM attachment). */
  onInventory?: (key: ScanKey, inventory: Inventory, signal: AbortSignal) => Promise<void>;
  onError: (err: unknown, what: string) => void;
}

/** The running scan module: its use cases for the ECR surface and a way to stop it. */
export interface ScanModule {
  service: ScanService;
  runner: JobRunner;
  close(): Promise<void>;
}

/**
 * Wires scanning into a running registry: scan on push (from `manifest.pushed` events), scan
 * records removed with their images, background scan jobs from the job table, and re-evaluation
 * of CONTINUOUS_SCAN images when the vulnerability database file changes.
 */
export function registerScanning(d: ScanModuleDeps): ScanModule {
  const wake = { poke: (): void => {} };
  const service = new ScanService(d.meta, d.scans, d.jobs, () => wake.poke());
  const refreshVulnDb = async (signal: AbortSignal): Promise<void> => {
    if (await d.vulnDb.reload(signal)) await service.queueReevaluation(signal);
  };
  const runner = new JobRunner(d.jobs, scanHandlers({
    meta: d.meta, blobs: d.blobs, scans: d.scans, vulnDb: d.vulnDb, events: d.events, limits: d.limits ?? DEFAULT_LAYER_LIMITS,
    ...(d.onInventory ? { onInventory: d.onInventory } : {}), refreshVulnDb,
  }), {
    workerId: d.workerId, concurrency: d.concurrency ?? 1, pollMs: 2000, leaseMs: 120_000, maxAttempts: 5,
    onError: (err, job) => d.onError(err, `scan job ${job.kind} ${job.id}`),
  });
  const stop = new AbortController();
  const unsubscribe = d.events.subscribe((e) => {
    const signal = stop.signal;
    const run = (what: string, p: () => Promise<unknown>): void => {
      p().catch((err: unknown) => {
        if (!signal.aborted) d.onError(err, what);
      });
    };
    if (e.type === 'manifest.pushed') run(`scan on push of ${repoName(e.repository)}@${e.digest}`, () => service.onPush(e.repository, e.digest, signal));
    else if (e.type === 'manifest.deleted') run('scan clean-up', () => d.scans.deleteScans(repoAccount(e.repository), repoName(e.repository), e.digest, signal));
    else if (e.type === 'repository.deleted') run('scan clean-up', () => d.scans.deleteScans(repoAccount(e.repository), repoName(e.repository), undefined, signal));
  });
  const watch = setInterval(() => {
    void refreshVulnDb(stop.signal).catch((err: unknown) => {
      if (!stop.signal.aborted) d.onError(err, 'vulnerability database reload');
    });
  }, d.vulnDbPollMs ?? 5000);
  watch.unref();
  wake.poke = () => runner.poke();
  runner.start();
  return {
    service, runner,
    async close() {
      clearInterval(watch);
      unsubscribe();
      stop.abort(new Error('scan module closing'));
      await runner.stop();
    },
  };
}
