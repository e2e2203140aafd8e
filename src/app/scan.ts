/**
 * Composition of the scan feature: its stores on the metadata database, the vulnerability
 * database file, and `berth vulndb import`. Kept beside app.ts (same layer) so app.ts only gains
 * a few lines.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../core/events.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { MetaStore } from '../core/ports/meta-store.js';
import type { InventoryStore, ScanStore } from '../core/ports/scan-store.js';
import type { ManifestService } from '../core/services/manifests.js';
import { registerScanning, readOsv, sbomAttacher, type ReadProgress, type ScanModule } from '../scan/index.js';
import type { ScanSchema } from '../storage/meta/migrations/scan-schema.js';
import { openSqlite } from '../storage/meta/sqlite/open.js';
import { SqliteJobQueue } from '../storage/meta/sqlite/sqlite-job-queue.js';
import { SqliteScanStore } from '../storage/meta/sqlite/sqlite-scan-store.js';
import { importVulnDb, SqliteVulnDb } from '../storage/vuln/sqlite-vuln-db.js';
import { openPostgresScanning } from './postgres.js';

/** Where the vulnerability database of a data directory lives. */
export const vulnDbPath = (config: Config): string => join(resolve(config.dataDir), 'vulndb.sqlite');

/** The scan module with the stores it was given, closed together. */
export interface ScanComposition extends ScanModule {
  jobs: JobQueue;
  scans: ScanStore & InventoryStore;
  vulnDb: SqliteVulnDb;
  /** Stops the module, then closes its connections. */
  shutdown(): Promise<void>;
}

/**
 * Starts the scan module on its own connection to the metadata database (SQLite's `:memory:`
 * for the in-memory backend, whose hand-written twin has no job or scan tables).
 */
export async function startScanning(config: Config, meta: MetaStore, blobs: BlobStore, manifests: ManifestService, events: EventBus, logger: Logger): Promise<ScanComposition> {
  const { jobs, scans, close } = await openScanStores(config);
  const vulnDb = await SqliteVulnDb.open(vulnDbPath(config));
  const module = registerScanning({
    meta, blobs, scans, jobs, vulnDb, events,
    workerId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    onInventory: sbomAttacher(meta, blobs, manifests),
    onError: (err, what) => logger.error({ err }, `${what} failed`),
  });
  return {
    ...module, jobs, scans, vulnDb,
    async shutdown() {
      await module.close();
      await vulnDb.close();
      await close();
    },
  };
}

/**
 * The job queue and scan store: on the shared PostgreSQL database for storage.meta postgres (every
 * node claims from one queue); else on the metadata file, or SQLite's `:memory:` for the memory
 * backend. The vulnerability database stays a per-node file either way (a downloaded, read-only dataset).
 */
async function openScanStores(config: Config): Promise<{ jobs: JobQueue; scans: ScanStore & InventoryStore; close(): Promise<void> }> {
  if (config.storage.meta === 'postgres') {
    const { jobs, scans } = await openPostgresScanning(config);
    return { jobs, scans, close: async () => { await jobs.close(); await scans.close(); } };
  }
  const { db, sql } = await openSqlite<ScanSchema>(config.storage.meta === 'sqlite' ? join(resolve(config.dataDir), 'meta.db') : ':memory:');
  return { jobs: new SqliteJobQueue(db, sql), scans: new SqliteScanStore(db, sql), close: async () => sql.close() };
}

/**
 * `berth vulndb import`: reads OSV data from `path` into a new vulnerability database and swaps
 * it in atomically; a running server picks it up within seconds. Resolves with the record count.
 */
export async function importVulnerabilities(config: Config, path: string, progress?: { read?: ReadProgress; written?: (n: number) => void }): Promise<number> {
  await mkdir(resolve(config.dataDir), { recursive: true, mode: 0o700 });
  return importVulnDb(vulnDbPath(config), readOsv(path, progress?.read), resolve(path), progress?.written);
}
