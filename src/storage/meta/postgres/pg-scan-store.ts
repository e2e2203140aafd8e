import type { Kysely, Selectable } from 'kysely';
import type { Digest } from '../../../core/digest.js';
import type { CompletedScan, InventoryStore, RevisableScan, ScanKey, ScanRevision, ScanStore, ScanTouch, SeverityCounts } from '../../../core/ports/scan-store.js';
import type { Inventory, RegistryScanningConfig, ScanRecord } from '../../../core/scanning.js';
import type { ImageScansTable, ScanSchema } from '../migrations/scan-schema.js';
import { InventoryCache, inventoryRows, storedNames } from '../inventory-cache.js';
import { FindingsCodec, type IndexedPackages } from '../scan-findings-codec.js';
import { revisedRow, toRecord } from '../sqlite/sqlite-scan-store.js';
import { leasePostgres, type PostgresHandle } from './open.js';
import { serializable } from './pg-tx.js';

/** Opens the scan store on the PostgreSQL database at `url` (a lease of the process's one pool). */
export async function openPostgresScanStore(opts: { url: string; poolSize: number }): Promise<PgScanStore> {
  return new PgScanStore(await leasePostgres(opts));
}

/** Orders scan keys as the primary key does (the lock order of multi-row writes). */
function byKey(a: ScanKey, b: ScanKey): number {
  const p = `${a.accountId}\u0000${a.repository}\u0000${a.digest}`;
  const q = `${b.accountId}\u0000${b.repository}\u0000${b.digest}`;
  return p < q ? -1 : p > q ? 1 : 0;
}

/** Whether a stored findings value may point into its image's inventory (a current-form value with entries). */
const pointsIntoInventory = (findings: string): boolean => findings.startsWith('{') && !findings.endsWith('"f":[]}');

/**
 * Scan results, scanning configuration and inventories on PostgreSQL (migration 0008, 0012 and 0013
 * tables), rows mapped and findings encoded as in the SQLite store (scan-findings-codec.ts). Upserts
 * are single `INSERT … ON CONFLICT` statements (atomic across nodes); the manual-scan limit is a
 * check-then-write, run SERIALIZABLE. Multi-row writes take their row locks in one global order
 * (advisories by ref, then scans by key), so two nodes writing overlapping pages cannot deadlock.
 */
export class PgScanStore implements ScanStore, InventoryStore {
  readonly #db: Kysely<ScanSchema>;
  /** Advisory rows are immutable, so this cache stays valid whatever other nodes write. */
  readonly #codec = new FindingsCodec();
  readonly #inventories = new InventoryCache();

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
    return r ? this.#decode(r) : undefined;
  }

  async getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>> {
    signal.throwIfAborted();
    const out = new Map<Digest, ScanRecord>();
    if (digests.length === 0) return out;
    const rows = await this.#db.selectFrom('image_scans').selectAll()
      .where('account_id', '=', accountId).where('repository', '=', repository).where('digest', 'in', [...digests]).execute();
    for (const r of rows) out.set(r.digest as Digest, await this.#decode(r));
    return out;
  }

  async putScan(s: ScanRecord, signal: AbortSignal): Promise<void> {
    return this.putScans([s], signal);
  }

  async putScans(records: readonly ScanRecord[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (records.length === 0) return;
    // Inventories are immutable once stored, so reading them before the transaction is safe: one
    // stored later is not used (its packages go inline), one read now stays valid.
    const indexes = new Map<string, IndexedPackages | undefined>();
    for (const s of records) {
      if (s.findings.length > 0 && !indexes.has(s.digest)) indexes.set(s.digest, await this.#indexed(s.digest));
    }
    try {
      const advisories = new Map<string, string>();
      const rows = records.map((s) => {
        const { json, advisories: fresh } = this.#codec.encode(s.findings, indexes.get(s.digest));
        for (const a of fresh) advisories.set(a.ref, a.body);
        return { s, json };
      });
      // Stable sort: of two records of one image the later still wins, as in the SQLite store.
      rows.sort((p, q) => byKey(p.s, q.s));
      await this.#db.transaction().execute(async (trx) => {
        const at = Date.now();
        for (const ref of [...advisories.keys()].sort()) {
          await trx.insertInto('scan_advisories').values({ ref, body: advisories.get(ref) as string, created_at: at })
            .onConflict((oc) => oc.column('ref').doNothing()).execute();
        }
        for (const { s, json } of rows) {
          const values = {
            status: s.status, description: s.description, scan_type: s.scanType, started_at: s.startedAt.getTime(),
            completed_at: s.completedAt?.getTime() ?? null, vuln_source_updated_at: s.vulnSourceUpdatedAt?.getTime() ?? null,
            findings: json, first_observed: JSON.stringify(s.firstObserved),
            vulndb_import: s.evaluatedWith?.importId ?? null, vulndb_generation: s.evaluatedWith?.generation ?? null,
          };
          await trx.insertInto('image_scans')
            .values({ account_id: s.accountId, repository: s.repository, digest: s.digest, last_manual_at: null, ...values })
            .onConflict((oc) => oc.columns(['account_id', 'repository', 'digest']).doUpdateSet(values)).execute();
        }
      });
    } catch (e) {
      // Advisories encoded for the rolled-back transaction are not stored after all.
      this.#codec.reset();
      throw e;
    }
  }

  async touchScans(touches: readonly ScanTouch[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (touches.length === 0) return;
    const ordered = [...touches].sort((p, q) => byKey(p.key, q.key));
    await this.#db.transaction().execute(async (trx) => {
      for (const t of ordered) {
        await trx.updateTable('image_scans').set({
          scan_type: t.scanType, completed_at: t.completedAt.getTime(), vuln_source_updated_at: t.vulnSourceUpdatedAt?.getTime() ?? null,
          vulndb_import: t.evaluatedWith?.importId ?? null, vulndb_generation: t.evaluatedWith?.generation ?? null,
        }).where('account_id', '=', t.key.accountId).where('repository', '=', t.key.repository).where('digest', '=', t.key.digest)
          .where('status', '=', 'COMPLETE').execute();
      }
    });
  }

  async getRevisable(key: ScanKey, ids: ReadonlySet<string>, signal: AbortSignal): Promise<RevisableScan | undefined> {
    signal.throwIfAborted();
    const r = await this.#row(this.#db, key).select(['findings', 'status']).executeTakeFirst();
    if (!r || r.status !== 'COMPLETE') return undefined;
    // The inventory only when a finding asked for names its package by place (often none: a
    // re-evaluation then reads no inventory). The codec is asked again after the await (see #learnMissing).
    await this.#learnMissing(this.#db, r.findings);
    const inventory = this.#codec.subsetReadsInventory(r.findings, ids) ? await this.#inventory(key.digest) : undefined;
    await this.#learnMissing(this.#db, r.findings);
    return this.#codec.subset(r.findings, ids, () => inventory?.packages);
  }

  /**
   * Rows are read without a lock and written back only if their findings are still what was read
   * (a scan another node rewrote meanwhile was matched against a database at least as new, and is
   * left as it is): no row lock is held before the advisories are inserted, keeping the store's
   * lock order (advisories by ref, then scans by key).
   */
  async reviseScans(revisions: readonly ScanRevision[], signal: AbortSignal): Promise<(SeverityCounts | undefined)[]> {
    signal.throwIfAborted();
    if (revisions.length === 0) return [];
    const planned = new Map<ScanRevision, { before: string; row: ReturnType<typeof revisedRow>; counts: SeverityCounts }>();
    const advisories = new Map<string, string>();
    try {
      for (const v of revisions) {
        const r = await this.#row(this.#db, v.key).select(['findings', 'first_observed', 'status']).executeTakeFirst();
        if (!r || r.status !== 'COMPLETE') continue;
        const indexed = await this.#indexed(v.key.digest);
        await this.#learnMissing(this.#db, r.findings);
        const out = this.#codec.revise(r.findings, v.ids, v.fresh, indexed);
        for (const a of out.advisories) advisories.set(a.ref, a.body);
        planned.set(v, { before: r.findings, row: revisedRow(v, out, r.first_observed), counts: out.counts });
      }
      const written = new Set<ScanRevision>();
      await this.#db.transaction().execute(async (trx) => {
        const at = Date.now();
        for (const ref of [...advisories.keys()].sort()) {
          await trx.insertInto('scan_advisories').values({ ref, body: advisories.get(ref) as string, created_at: at })
            .onConflict((oc) => oc.column('ref').doNothing()).execute();
        }
        for (const v of [...planned.keys()].sort((p, q) => byKey(p.key, q.key))) {
          const { before, row } = planned.get(v)!;
          const done = await trx.updateTable('image_scans').set(row)
            .where('account_id', '=', v.key.accountId).where('repository', '=', v.key.repository).where('digest', '=', v.key.digest)
            .where('status', '=', 'COMPLETE').where('findings', '=', before).executeTakeFirst();
          if (Number(done.numUpdatedRows) > 0) written.add(v);
        }
      });
      return revisions.map((v) => (written.has(v) ? planned.get(v)!.counts : undefined));
    } catch (e) {
      // Advisories encoded for a rolled-back transaction are not stored after all.
      this.#codec.reset();
      throw e;
    }
  }

  #row(db: Kysely<ScanSchema>, key: ScanKey) {
    return db.selectFrom('image_scans').where('account_id', '=', key.accountId).where('repository', '=', key.repository).where('digest', '=', key.digest);
  }

  /**
   * Reads the advisories a stored findings value names that the codec has not cached. Unlike
   * SQLite's synchronous reads, another read of this store may run while this one awaits, and the
   * codec's bounded cache may drop refs this value needs; so the check that nothing is missing is
   * repeated until it holds, and callers decode right after it with no await between.
   */
  async #learnMissing(db: Kysely<ScanSchema>, findings: string): Promise<void> {
    for (let round = 0; round < 4; round++) {
      const missing = this.#codec.missing(findings);
      if (missing.length === 0) return;
      for (let i = 0; i < missing.length; i += 500) {
        this.#codec.learn(await db.selectFrom('scan_advisories').select(['ref', 'body']).where('ref', 'in', missing.slice(i, i + 500)).execute());
      }
    }
  }

  /**
   * A row's record; reads the advisories it names that are not cached yet. Advisories are written
   * in the row's transaction and never change, so reading them after the row is consistent.
   */
  async #decode(r: Selectable<ImageScansTable>): Promise<ScanRecord> {
    // The codec asks for the inventory synchronously, so it is read first; only stored findings
    // values of the current form (not a legacy array) with entries can point into it.
    const inventory = pointsIntoInventory(r.findings) ? await this.#inventory(r.digest as Digest) : undefined;
    await this.#learnMissing(this.#db, r.findings);
    return toRecord(r, this.#codec.decode(r.findings, () => inventory?.packages));
  }

  /** The stored inventory of `digest` (parsed once, see InventoryCache). */
  async #inventory(digest: Digest): Promise<Inventory | undefined> {
    const hit = this.#inventories.get(digest);
    if (hit) return hit;
    // An identical text parsed already is not fetched again (a round trip of a few bytes, not ~300 KB).
    const hash = (await this.#db.selectFrom('image_inventory_index').select('text_hash').where('digest', '=', digest).executeTakeFirst())?.text_hash;
    const same = this.#inventories.getByHash(digest, hash);
    if (same) return same;
    const r = await this.#db.selectFrom('image_inventories').select('inventory').where('digest', '=', digest).executeTakeFirst();
    return r ? this.#inventories.add(digest, r.inventory, hash) : undefined;
  }

  async #indexed(digest: Digest): Promise<IndexedPackages | undefined> {
    const inventory = await this.#inventory(digest);
    return inventory ? this.#inventories.indexed(inventory) : undefined;
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
          vulndb_import: null, vulndb_generation: null,
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

  async listCompleted(after: ScanKey | undefined, limit: number, signal: AbortSignal): Promise<CompletedScan[]> {
    signal.throwIfAborted();
    let q = this.#db.selectFrom('image_scans').select(['account_id', 'repository', 'digest', 'vulndb_import', 'vulndb_generation'])
      .where('status', '=', 'COMPLETE').orderBy('account_id').orderBy('repository').orderBy('digest').limit(limit);
    if (after) {
      q = q.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('account_id', 'repository', 'digest'), '>', tuple(after.accountId, after.repository, after.digest)));
    }
    return (await q.execute()).map((r) => ({
      accountId: r.account_id, repository: r.repository, digest: r.digest as Digest,
      ...(r.vulndb_import !== null && r.vulndb_generation !== null ? { evaluatedWith: { importId: r.vulndb_import, generation: r.vulndb_generation } } : {}),
    }));
  }

  async putInventory(digest: Digest, inventory: Inventory, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // Insert-or-ignore: stored findings name packages by their place in the first inventory stored.
    const { text, index } = inventoryRows(inventory);
    await this.#db.transaction().execute(async (trx) => {
      // The index row only with the inventory it describes (the first inventory stored stays).
      const added = await trx.insertInto('image_inventories').values({ digest, inventory: text, created_at: Date.now() })
        .onConflict((oc) => oc.column('digest').doNothing()).executeTakeFirst();
      if (Number(added.numInsertedOrUpdatedRows ?? 0) > 0) await trx.insertInto('image_inventory_index').values({ digest, ...index }).execute();
    });
  }

  async getInventoryNames(digest: Digest, signal: AbortSignal): Promise<readonly string[] | undefined> {
    signal.throwIfAborted();
    return storedNames(await this.#db.selectFrom('image_inventory_index').select('names').where('digest', '=', digest).executeTakeFirst());
  }

  async getInventory(digest: Digest, signal: AbortSignal): Promise<Inventory | undefined> {
    signal.throwIfAborted();
    return this.#inventory(digest);
  }

  /** Releases this store's lease on the pool. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
