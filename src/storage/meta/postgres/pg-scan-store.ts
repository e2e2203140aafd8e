import type { Kysely } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { InventoryStore, ScanKey, ScanStore } from '../../../core/ports/scan-store.js';
import type { Inventory, RegistryScanningConfig, ScanRecord } from '../../../core/scanning.js';
import type { ScanSchema } from '../migrations/scan-schema.js';
import { toRecord } from '../sqlite/sqlite-scan-store.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { serializable } from './pg-tx.js';

/** Opens the scan store on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresScanStore(opts: { url: string; poolSize: number }): Promise<PgScanStore> {
  return new PgScanStore(await leasePostgres(opts));
}

/**
 * Scan results, scanning configuration and inventories on PostgreSQL (migration 0008 tables), rows
 * mapped as in the SQLite store. Upserts are single `INSERT … ON CONFLICT` statements (atomic across
 * nodes); the manual-scan limit is a check-then-write, run SERIALIZABLE.
 */
export class PgScanStore implements ScanStore, InventoryStore {
  readonly #db: Kysely<ScanSchema>;

  /** Use {@link openPostgresScanStore}; `handle` is released by {@link close}. */
  constructor(private readonly handle: PostgresHandle) {
    this.#db = handle.db as unknown as Kysely<ScanSchema>;
  }

  async getRegistryConfig(accountId: string, signal: AbortSignal): Promise<RegistryScanningConfig | undefined> {
    signal.throwIfAborted();
    const r = await this.#db.selectFrom('registry_scanning').select('config').where('account_id', '=', accountId).executeTakeFirst();
    return r ? JSON.parse(r.config) as RegistryScanningConfig : undefined;
  }

  async putRegistryConfig(accountId: string, config: RegistryScanningConfig, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const json = JSON.stringify(config);
    await this.#db.insertInto('registry_scanning').values({ account_id: accountId, config: json })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ config: json })).execute();
  }

  async getScan(key: ScanKey, signal: AbortSignal): Promise<ScanRecord | undefined> {
    signal.throwIfAborted();
    const r = await this.#db.selectFrom('image_scans').selectAll()
      .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  async getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>> {
    signal.throwIfAborted();
    const out = new Map<Digest, ScanRecord>();
    if (digests.length === 0) return out;
    const rows = await this.#db.selectFrom('image_scans').selectAll()
      .where('account_id', '=', accountId).where('repository', '=', repository).where('digest', 'in', [...digests]).execute();
    for (const r of rows) out.set(r.digest as Digest, toRecord(r));
    return out;
  }

  async putScan(s: ScanRecord, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const values = {
      status: s.status, description: s.description, scan_type: s.scanType, started_at: s.startedAt.getTime(),
      completed_at: s.completedAt?.getTime() ?? null, vuln_source_updated_at: s.vulnSourceUpdatedAt?.getTime() ?? null,
      findings: JSON.stringify(s.findings), first_observed: JSON.stringify(s.firstObserved),
    };
    await this.#db.insertInto('image_scans')
      .values({ account_id: s.accountId, repository: s.repository, digest: s.digest, last_manual_at: null, ...values })
      .onConflict((oc) => oc.columns(['account_id', 'repository', 'digest']).doUpdateSet(values)).execute();
  }

  async recordManualScan(key: ScanKey, at: Date, since: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    // SERIALIZABLE: of two nodes recording a manual scan of one image at once, only one gets `true`.
    return serializable(this.#db, async (trx) => {
      const r = await trx.selectFrom('image_scans').select('last_manual_at')
        .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest).executeTakeFirst();
      if (r?.last_manual_at != null && r.last_manual_at > since.getTime()) return false;
      if (r) {
        await trx.updateTable('image_scans').set({ last_manual_at: at.getTime() })
          .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest).execute();
      } else {
        await trx.insertInto('image_scans').values({
          account_id: key.accountId, repository: key.repository, digest: key.digest, status: 'IN_PROGRESS',
          description: 'The scan is queued.', scan_type: 'BASIC', started_at: at.getTime(), completed_at: null,
          vuln_source_updated_at: null, last_manual_at: at.getTime(), findings: '[]', first_observed: '{}',
        }).execute();
      }
      return true;
    });
  }

  async deleteScans(accountId: string, repository: string, digest: Digest | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let q = this.#db.deleteFrom('image_scans').where('account_id', '=', accountId).where('repository', '=', repository);
    if (digest) q = q.where('digest', '=', digest);
    await q.execute();
  }

  async listCompleted(after: ScanKey | undefined, limit: number, signal: AbortSignal): Promise<ScanKey[]> {
    signal.throwIfAborted();
    let q = this.#db.selectFrom('image_scans').select(['account_id', 'repository', 'digest'])
      .where('status', '=', 'COMPLETE').orderBy('account_id').orderBy('repository').orderBy('digest').limit(limit);
    if (after) {
      q = q.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('account_id', 'repository', 'digest'), '>', tuple(after.accountId, after.repository, after.digest)));
    }
    return (await q.execute()).map((r) => ({ accountId: r.account_id, repository: r.repository, digest: r.digest as Digest }));
  }

  async putInventory(digest: Digest, inventory: Inventory, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const json = JSON.stringify(inventory);
    await this.#db.insertInto('image_inventories').values({ digest, inventory: json, created_at: Date.now() })
      .onConflict((oc) => oc.column('digest').doUpdateSet({ inventory: json })).execute();
  }

  async getInventory(digest: Digest, signal: AbortSignal): Promise<Inventory | undefined> {
    signal.throwIfAborted();
    const r = await this.#db.selectFrom('image_inventories').select('inventory').where('digest', '=', digest).executeTakeFirst();
    return r ? JSON.parse(r.inventory) as Inventory : undefined;
  }

  /** Releases this store's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
