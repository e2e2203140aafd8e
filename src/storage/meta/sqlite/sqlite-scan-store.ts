import type { Kysely, Selectable } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { InventoryStore, ScanKey, ScanStore } from '../../../core/ports/scan-store.js';
import type { Finding, Inventory, RegistryScanningConfig, ScanRecord, ScanStatus, ScanType } from '../../../core/scanning.js';
import type { ImageScansTable, ScanSchema } from '../migrations/scan-schema.js';
import type { Statements } from './statements.js';

/** JSON keeps `Date`s as ISO strings; these are turned back on read. */
function reviveFinding(f: Finding & { publishedAt?: Date | string; modifiedAt?: Date | string }): Finding {
  return {
    ...f,
    ...(f.publishedAt !== undefined ? { publishedAt: new Date(f.publishedAt) } : {}),
    ...(f.modifiedAt !== undefined ? { modifiedAt: new Date(f.modifiedAt) } : {}),
  };
}

function toRecord(r: Selectable<ImageScansTable>): ScanRecord {
  return {
    accountId: r.account_id, repository: r.repository, digest: r.digest as Digest,
    status: r.status as ScanStatus, description: r.description, scanType: r.scan_type as ScanType,
    startedAt: new Date(r.started_at),
    ...(r.completed_at !== null ? { completedAt: new Date(r.completed_at) } : {}),
    ...(r.vuln_source_updated_at !== null ? { vulnSourceUpdatedAt: new Date(r.vuln_source_updated_at) } : {}),
    findings: (JSON.parse(r.findings) as Finding[]).map(reviveFinding),
    firstObserved: JSON.parse(r.first_observed) as Record<string, number>,
  };
}

/** Scan results, scanning configuration and inventories in the metadata database (migration 0008). */
export class SqliteScanStore implements ScanStore, InventoryStore {
  constructor(private readonly db: Kysely<ScanSchema>, private readonly sql: Statements) {}

  async getRegistryConfig(accountId: string, signal: AbortSignal): Promise<RegistryScanningConfig | undefined> {
    signal.throwIfAborted();
    const r = this.sql.get(this.db.selectFrom('registry_scanning').select('config').where('account_id', '=', accountId));
    return r ? JSON.parse(r.config) as RegistryScanningConfig : undefined;
  }

  async putRegistryConfig(accountId: string, config: RegistryScanningConfig, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const json = JSON.stringify(config);
    this.sql.run(this.db.insertInto('registry_scanning').values({ account_id: accountId, config: json })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ config: json })));
  }

  async getScan(key: ScanKey, signal: AbortSignal): Promise<ScanRecord | undefined> {
    signal.throwIfAborted();
    const r = this.sql.get(this.db.selectFrom('image_scans').selectAll()
      .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest));
    return r ? toRecord(r) : undefined;
  }

  async getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>> {
    signal.throwIfAborted();
    const out = new Map<Digest, ScanRecord>();
    if (digests.length === 0) return out;
    const rows = this.sql.all(this.db.selectFrom('image_scans').selectAll()
      .where('account_id', '=', accountId).where('repository', '=', repository).where('digest', 'in', [...digests]));
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
    this.sql.run(this.db.insertInto('image_scans')
      .values({ account_id: s.accountId, repository: s.repository, digest: s.digest, last_manual_at: null, ...values })
      .onConflict((oc) => oc.columns(['account_id', 'repository', 'digest']).doUpdateSet(values)));
  }

  async recordManualScan(key: ScanKey, at: Date, since: Date, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.sql.write(() => {
      const r = this.sql.get(this.db.selectFrom('image_scans').select('last_manual_at')
        .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest));
      if (r?.last_manual_at != null && r.last_manual_at > since.getTime()) return false;
      if (r) {
        this.sql.run(this.db.updateTable('image_scans').set({ last_manual_at: at.getTime() })
          .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest));
      } else {
        this.sql.run(this.db.insertInto('image_scans').values({
          account_id: key.accountId, repository: key.repository, digest: key.digest, status: 'IN_PROGRESS',
          description: 'The scan is queued.', scan_type: 'BASIC', started_at: at.getTime(), completed_at: null,
          vuln_source_updated_at: null, last_manual_at: at.getTime(), findings: '[]', first_observed: '{}',
        }));
      }
      return true;
    });
  }

  async deleteScans(accountId: string, repository: string, digest: Digest | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    let q = this.db.deleteFrom('image_scans').where('account_id', '=', accountId).where('repository', '=', repository);
    if (digest) q = q.where('digest', '=', digest);
    this.sql.run(q);
  }

  async listCompleted(after: ScanKey | undefined, limit: number, signal: AbortSignal): Promise<ScanKey[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('image_scans').select(['account_id', 'repository', 'digest'])
      .where('status', '=', 'COMPLETE').orderBy('account_id').orderBy('repository').orderBy('digest').limit(limit);
    if (after) {
      q = q.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('account_id', 'repository', 'digest'), '>', tuple(after.accountId, after.repository, after.digest)));
    }
    return this.sql.all(q).map((r) => ({ accountId: r.account_id, repository: r.repository, digest: r.digest as Digest }));
  }

  async putInventory(digest: Digest, inventory: Inventory, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const json = JSON.stringify(inventory);
    this.sql.run(this.db.insertInto('image_inventories').values({ digest, inventory: json, created_at: Date.now() })
      .onConflict((oc) => oc.column('digest').doUpdateSet({ inventory: json })));
  }

  async getInventory(digest: Digest, signal: AbortSignal): Promise<Inventory | undefined> {
    signal.throwIfAborted();
    const r = this.sql.get(this.db.selectFrom('image_inventories').select('inventory').where('digest', '=', digest));
    return r ? JSON.parse(r.inventory) as Inventory : undefined;
  }
}
