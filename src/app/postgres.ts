/**
 * The PostgreSQL stores of `storage.meta: postgres` beyond the MetaStore (identity, lifecycle, GC,
 * public registry, login profiles, job queue, scans). Every one leases the process's single pool
 * (storage/meta/postgres/open.ts). Each is loaded with `import()` when opened, so the embedded
 * default never loads `pg` (start-up time, issue 12). Kept beside app.ts (same layer) so app.ts
 * only gains the lines that choose implementations.
 */
import type { Config } from '../config/schema.js';
import type { GcStore } from '../core/ports/gc-store.js';
import type { IdentityStore } from '../core/ports/identity-store.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { LifecycleStore } from '../core/ports/lifecycle-store.js';
import type { LoginProfileStore } from '../core/ports/login-profiles.js';
import type { PublicRegistryStore } from '../core/ports/public-registry.js';
import type { InventoryStore, ScanStore } from '../core/ports/scan-store.js';

type Closable<T> = T & { close(): Promise<void> };

/** `postgres.url` and `postgres.poolSize`; throws when the URL is missing (the schema already refuses that). */
export function postgresSettings(config: Config): { url: string; poolSize: number } {
  const { url, poolSize } = config.postgres;
  if (url === undefined) throw new Error('postgres.url is required when storage.meta is postgres');
  return { url, poolSize };
}

export async function openPostgresIdentity(config: Config): Promise<IdentityStore> {
  const { openPostgresIdentityStore } = await import('../storage/meta/postgres/pg-identity-store.js');
  return openPostgresIdentityStore(postgresSettings(config));
}

export async function openPostgresLifecycle(config: Config): Promise<{ lifecycleStore: LifecycleStore; gcStore: GcStore }> {
  const { openPostgresLifecycleStore } = await import('../storage/meta/postgres/pg-lifecycle-store.js');
  const { openPostgresGcStore } = await import('../storage/meta/postgres/pg-gc-store.js');
  const lifecycleStore = await openPostgresLifecycleStore(postgresSettings(config));
  return { lifecycleStore, gcStore: await openPostgresGcStore(postgresSettings(config)) };
}

export async function openPostgresPublic(config: Config): Promise<{ publicRegistry: Closable<PublicRegistryStore>; loginProfiles: Closable<LoginProfileStore> }> {
  const { openPostgresPublicRegistry } = await import('../storage/meta/postgres/pg-public-registry.js');
  const { openPostgresLoginProfiles } = await import('../storage/meta/postgres/pg-login-profiles.js');
  const publicRegistry = await openPostgresPublicRegistry(postgresSettings(config));
  return { publicRegistry, loginProfiles: await openPostgresLoginProfiles(postgresSettings(config)) };
}

export async function openPostgresScanning(config: Config): Promise<{ jobs: Closable<JobQueue>; scans: Closable<ScanStore & InventoryStore> }> {
  const { openPostgresJobQueue } = await import('../storage/meta/postgres/pg-job-queue.js');
  const { openPostgresScanStore } = await import('../storage/meta/postgres/pg-scan-store.js');
  const jobs = await openPostgresJobQueue(postgresSettings(config));
  return { jobs, scans: await openPostgresScanStore(postgresSettings(config)) };
}
