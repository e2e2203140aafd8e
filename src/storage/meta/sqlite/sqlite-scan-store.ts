import type { Kysely, Selectable } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { CompletedScan, InventoryStore, RevisableScan, ScanKey, ScanRevision, ScanStore, ScanTouch, SeverityCounts } from '../../../core/ports/scan-store.js';
import type { Finding, Inventory, RegistryScanningConfig, ScanRecord, ScanStatus, ScanType } from '../../../core/scanning.js';
import type { ImageScansTable, ScanSchema } from '../migrations/scan-schema.js';
import { InventoryCache, inventoryRows, storedNames } from '../inventory-cache.js';
import { FindingsCodec, type IndexedPackages } from '../scan-findings-codec.js';
import type { Statements } from './statements.js';

/** The record of a row, with its findings decoded by `decode`. */
export function toRecord(r: Selectable<ImageScansTable>, findings: Finding[]): ScanRecord {
  return {
    accountId: r.account_id, repository: r.repository, digest: r.digest as Digest,
    status: r.status as ScanStatus, description: r.description, scanType: r.scan_type as ScanType,
    startedAt: new Date(r.started_at),
    ...(r.completed_at !== null ? { completedAt: new Date(r.completed_at) } : {}),
    ...(r.vuln_source_updated_at !== null ? { vulnSourceUpdatedAt: new Date(r.vuln_source_updated_at) } : {}),
    findings,
    firstObserved: JSON.parse(r.first_observed) as Record<string, number>,
    ...(r.vulndb_import !== null && r.vulndb_generation !== null ? { evaluatedWith: { importId: r.vulndb_import, generation: r.vulndb_generation } } : {}),
  };
}

/**
 * The columns a re-evaluation sets on a revised scan (shared with the PostgreSQL store): the new
 * findings value, first-seen times kept for vulnerabilities still found and `completedAt` for new ones.
 */
export function revisedRow(v: ScanRevision, out: { json: string; ids: ReadonlySet<string> }, firstObservedJson: string) {
  const before = JSON.parse(firstObservedJson) as Record<string, number>;
  const firstObserved: Record<string, number> = {};
  for (const id of out.ids) firstObserved[id] = before[id] ?? v.completedAt.getTime();
  return {
    findings: out.json, first_observed: JSON.stringify(firstObserved), description: v.description, scan_type: v.scanType,
    completed_at: v.completedAt.getTime(), vuln_source_updated_at: v.vulnSourceUpdatedAt?.getTime() ?? null,
    vulndb_import: v.evaluatedWith?.importId ?? null, vulndb_generation: v.evaluatedWith?.generation ?? null,
  };
}

/** Scan results, scanning configuration and inventories in the metadata database (migrations 0008, 0012, 0013). */
export class SqliteScanStore implements ScanStore, InventoryStore {
  readonly #codec = new FindingsCodec();
  readonly #inventories = new InventoryCache();

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
    return this.sql.read(() => {
      const r = this.sql.get(this.db.selectFrom('image_scans').selectAll()
        .where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest));
      return r ? this.#decode(r) : undefined;
    });
  }

  async getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>> {
    signal.throwIfAborted();
    const out = new Map<Digest, ScanRecord>();
    if (digests.length === 0) return out;
    return this.sql.read(() => {
      const rows = this.sql.all(this.db.selectFrom('image_scans').selectAll()
        .where('account_id', '=', accountId).where('repository', '=', repository).where('digest', 'in', [...digests]));
      for (const r of rows) out.set(r.digest as Digest, this.#decode(r));
      return out;
    });
  }

  async putScan(s: ScanRecord, signal: AbortSignal): Promise<void> {
    return this.putScans([s], signal);
  }

  async putScans(records: readonly ScanRecord[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (records.length === 0) return;
    try {
      this.sql.write(() => {
        for (const s of records) this.#put(s);
      });
    } catch (e) {
      // Advisories encoded in the rolled-back transaction are not stored after all.
      this.#codec.reset();
      throw e;
    }
  }

  async touchScans(touches: readonly ScanTouch[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (touches.length === 0) return;
    this.sql.write(() => {
      for (const t of touches) {
        this.sql.run(this.db.updateTable('image_scans').set({
          scan_type: t.scanType, completed_at: t.completedAt.getTime(), vuln_source_updated_at: t.vulnSourceUpdatedAt?.getTime() ?? null,
          vulndb_import: t.evaluatedWith?.importId ?? null, vulndb_generation: t.evaluatedWith?.generation ?? null,
        }).where('account_id', '=', t.key.accountId).where('repository', '=', t.key.repository).where('digest', '=', t.key.digest)
          .where('status', '=', 'COMPLETE'));
      }
    });
  }

  async getRevisable(key: ScanKey, ids: ReadonlySet<string>, signal: AbortSignal): Promise<RevisableScan | undefined> {
    signal.throwIfAborted();
    return this.sql.read(() => {
      const r = this.sql.get(this.#row(key).select(['findings', 'status']));
      if (!r || r.status !== 'COMPLETE') return undefined;
      this.#learnMissing(r.findings);
      return this.#codec.subset(r.findings, ids, () => this.#inventory(key.digest)?.packages);
    });
  }

  async reviseScans(revisions: readonly ScanRevision[], signal: AbortSignal): Promise<(SeverityCounts | undefined)[]> {
    signal.throwIfAborted();
    if (revisions.length === 0) return [];
    try {
      return this.sql.write(() => revisions.map((v) => this.#revise(v)));
    } catch (e) {
      // Advisories encoded in the rolled-back transaction are not stored after all.
      this.#codec.reset();
      throw e;
    }
  }

  #revise(v: ScanRevision): SeverityCounts | undefined {
    const r = this.sql.get(this.#row(v.key).select(['findings', 'first_observed', 'status']));
    if (!r || r.status !== 'COMPLETE') return undefined;
    this.#learnMissing(r.findings);
    const out = this.#codec.revise(r.findings, v.ids, v.fresh, this.#indexed(v.key.digest));
    const at = Date.now();
    for (const a of out.advisories) {
      this.sql.run(this.db.insertInto('scan_advisories').values({ ref: a.ref, body: a.body, created_at: at })
        .onConflict((oc) => oc.column('ref').doNothing()));
    }
    this.sql.run(this.db.updateTable('image_scans').set(revisedRow(v, out, r.first_observed))
      .where('account_id', '=', v.key.accountId).where('repository', '=', v.key.repository).where('digest', '=', v.key.digest));
    return out.counts;
  }

  #row(key: ScanKey) {
    return this.db.selectFrom('image_scans').where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest);
  }

  /** Reads the advisories a stored findings value names that the codec has not cached. */
  #learnMissing(findings: string): void {
    const missing = this.#codec.missing(findings);
    for (let i = 0; i < missing.length; i += 500) {
      this.#codec.learn(this.sql.all(this.db.selectFrom('scan_advisories').select(['ref', 'body']).where('ref', 'in', missing.slice(i, i + 500))));
    }
  }

  #put(s: ScanRecord): void {
    const { json, advisories } = this.#codec.encode(s.findings, s.findings.length > 0 ? this.#indexed(s.digest) : undefined);
    const at = Date.now();
    for (const a of advisories) {
      this.sql.run(this.db.insertInto('scan_advisories').values({ ref: a.ref, body: a.body, created_at: at })
        .onConflict((oc) => oc.column('ref').doNothing()));
    }
    const values = {
      status: s.status, description: s.description, scan_type: s.scanType, started_at: s.startedAt.getTime(),
      completed_at: s.completedAt?.getTime() ?? null, vuln_source_updated_at: s.vulnSourceUpdatedAt?.getTime() ?? null,
      findings: json, first_observed: JSON.stringify(s.firstObserved),
      vulndb_import: s.evaluatedWith?.importId ?? null, vulndb_generation: s.evaluatedWith?.generation ?? null,
    };
    this.sql.run(this.db.insertInto('image_scans')
      .values({ account_id: s.accountId, repository: s.repository, digest: s.digest, last_manual_at: null, ...values })
      .onConflict((oc) => oc.columns(['account_id', 'repository', 'digest']).doUpdateSet(values)));
  }

  /** A row's record; reads the advisories it names that are not cached yet. */
  #decode(r: Selectable<ImageScansTable>): ScanRecord {
    this.#learnMissing(r.findings);
    return toRecord(r, this.#codec.decode(r.findings, () => this.#inventory(r.digest as Digest)?.packages));
  }

  /** The stored inventory of `digest` (parsed once, see InventoryCache). */
  #inventory(digest: Digest): Inventory | undefined {
    const hit = this.#inventories.get(digest);
    if (hit) return hit;
    // Both rows are written in one transaction and never change: no snapshot needed across the reads.
    const hash = this.sql.get(this.db.selectFrom('image_inventory_index').select('text_hash').where('digest', '=', digest))?.text_hash;
    const same = this.#inventories.getByHash(digest, hash);
    if (same) return same;
    const r = this.sql.get(this.db.selectFrom('image_inventories').select('inventory').where('digest', '=', digest));
    return r ? this.#inventories.add(digest, r.inventory, hash) : undefined;
  }

  #indexed(digest: Digest): IndexedPackages | undefined {
    const inventory = this.#inventory(digest);
    return inventory ? this.#inventories.indexed(inventory) : undefined;
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
          vulndb_import: null, vulndb_generation: null,
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

  async listCompleted(after: ScanKey | undefined, limit: number, signal: AbortSignal): Promise<CompletedScan[]> {
    signal.throwIfAborted();
    let q = this.db.selectFrom('image_scans').select(['account_id', 'repository', 'digest', 'vulndb_import', 'vulndb_generation'])
      .where('status', '=', 'COMPLETE').orderBy('account_id').orderBy('repository').orderBy('digest').limit(limit);
    if (after) {
      q = q.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('account_id', 'repository', 'digest'), '>', tuple(after.accountId, after.repository, after.digest)));
    }
    return this.sql.all(q).map((r) => ({
      accountId: r.account_id, repository: r.repository, digest: r.digest as Digest,
      ...(r.vulndb_import !== null && r.vulndb_generation !== null ? { evaluatedWith: { importId: r.vulndb_import, generation: r.vulndb_generation } } : {}),
    }));
  }

  async putInventory(digest: Digest, inventory: Inventory, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { text, index } = inventoryRows(inventory);
    this.sql.write(() => {
      // The index row only with the inventory it describes (the first inventory stored stays).
      const added = this.sql.run(this.db.insertInto('image_inventories').values({ digest, inventory: text, created_at: Date.now() })
        .onConflict((oc) => oc.column('digest').doNothing()));
      if (added > 0) this.sql.run(this.db.insertInto('image_inventory_index').values({ digest, ...index }));
    });
  }

  async getInventoryNames(digest: Digest, signal: AbortSignal): Promise<readonly string[] | undefined> {
    signal.throwIfAborted();
    return storedNames(this.sql.get(this.db.selectFrom('image_inventory_index').select('names').where('digest', '=', digest)));
  }

  async getInventory(digest: Digest, signal: AbortSignal): Promise<Inventory | undefined> {
    signal.throwIfAborted();
    return this.#inventory(digest);
  }
}
