import type { Digest } from '../digest.js';
import type { Finding, Inventory, RegistryScanningConfig, ScanRecord, ScanType, Severity, VulnDbVersion } from '../scanning.js';

/**
 * Scan results and scanning configuration, in the metadata database beside the images they
 * describe.
 *
 * ```
 *  registry_scanning   account_id (pk) · config json (scanType, rules)
 *  image_scans         pk(account_id, repository, digest) · status · description · scan_type
 *                      · started_at · completed_at · vuln_source_updated_at
 *                      · last_manual_at (24 h StartImageScan limit) · findings json · first_observed json
 *                      · vulndb_import · vulndb_generation (evaluatedWith)
 *  image_inventories   digest (pk) · inventory json · created_at        (content-addressed: shared
 *                                                                        by every repository)
 *  image_inventory_index  digest (pk) · text_hash · names json           (lookup names; none for
 *                                                                        inventories before 0012)
 *  scan_advisories     ref (pk) · body json · created_at                 (advisories findings name;
 *                                                                        storage/meta/scan-findings-codec.ts)
 * ```
 *
 * Writes are atomic and visible to every node once their promise resolves.
 */
export interface ScanStore {
  /** The account's registry scanning configuration, or `undefined` when never set. */
  getRegistryConfig(accountId: string, signal: AbortSignal): Promise<RegistryScanningConfig | undefined>;

  /** Replaces the account's registry scanning configuration. */
  putRegistryConfig(accountId: string, config: RegistryScanningConfig, signal: AbortSignal): Promise<void>;

  /** The scan of one image, or `undefined` when it was never scanned. */
  getScan(key: ScanKey, signal: AbortSignal): Promise<ScanRecord | undefined>;

  /** Scans of several images of one repository (missing ones omitted), keyed by digest. */
  getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>>;

  /** Inserts or replaces the scan of `record`'s image. */
  putScan(record: ScanRecord, signal: AbortSignal): Promise<void>;

  /** Inserts or replaces several scans in one transaction (all or none are written). */
  putScans(records: readonly ScanRecord[], signal: AbortSignal): Promise<void>;

  /**
   * Marks scans whose findings a re-evaluation left as they were: sets `completedAt`,
   * `vulnSourceUpdatedAt`, `scanType` and `evaluatedWith` of each listed scan that is still
   * COMPLETE, keeping findings and first-seen times. One transaction; missing scans are skipped.
   */
  touchScans(touches: readonly ScanTouch[], signal: AbortSignal): Promise<void>;

  /**
   * Re-evaluation's read of a COMPLETE scan (`undefined` otherwise): only its findings of the
   * vulnerabilities `ids` (in stored order) and the severity counts of all its findings, so an image
   * is checked against a change set without decoding every finding.
   */
  getRevisable(key: ScanKey, ids: ReadonlySet<string>, signal: AbortSignal): Promise<RevisableScan | undefined>;

  /**
   * Re-evaluation's write, one transaction: in each listed scan that is still COMPLETE (and, on a
   * shared database, not rewritten by another writer since it was read), the findings of `ids` are
   * replaced by `fresh` and every other finding is kept as stored, in compareFindings order; first-
   * seen times are kept for vulnerabilities still found and set to `completedAt` for new ones, and
   * the listed fields are set. Resolves with each revision's severity counts (`undefined` for one
   * that was skipped).
   */
  reviseScans(revisions: readonly ScanRevision[], signal: AbortSignal): Promise<(SeverityCounts | undefined)[]>;

  /**
   * Records a manual scan request at `at` unless one was recorded after `since` (ECR allows one per
   * image per 24 h). Atomic: of two concurrent requests only one gets `true`.
   */
  recordManualScan(key: ScanKey, at: Date, since: Date, signal: AbortSignal): Promise<boolean>;

  /** Deletes the scans of one image (`digest`) or of a whole repository of account `accountId`. */
  deleteScans(accountId: string, repository: string, digest: Digest | undefined, signal: AbortSignal): Promise<void>;

  /**
   * Keys of every completed scan, ordered, after `after`, at most `limit` (for re-evaluation),
   * each with the database version its findings were matched against when recorded.
   */
  listCompleted(after: ScanKey | undefined, limit: number, signal: AbortSignal): Promise<CompletedScan[]>;
}

/** A completed scan as {@link ScanStore.listCompleted} lists it. */
export interface CompletedScan extends ScanKey {
  evaluatedWith?: VulnDbVersion;
}

export type SeverityCounts = Partial<Record<Severity, number>>;

/** What {@link ScanStore.getRevisable} reads of one scan. */
export interface RevisableScan {
  /** The findings of the vulnerabilities asked for, in stored order. */
  changed: Finding[];
  /** Counts of all the scan's findings by severity. */
  counts: SeverityCounts;
}

/** One scan's re-evaluation against a change set ({@link ScanStore.reviseScans}). */
export interface ScanRevision {
  key: ScanKey;
  /** The vulnerabilities of the change set: their findings are replaced. */
  ids: ReadonlySet<string>;
  /** The findings of those vulnerabilities now, sorted by compareFindings. */
  fresh: readonly Finding[];
  description: string;
  scanType: ScanType;
  completedAt: Date;
  vulnSourceUpdatedAt?: Date;
  evaluatedWith?: VulnDbVersion;
}

/** What {@link ScanStore.touchScans} sets on one scan. */
export interface ScanTouch {
  key: ScanKey;
  scanType: ScanType;
  completedAt: Date;
  vulnSourceUpdatedAt?: Date;
  evaluatedWith?: VulnDbVersion;
}

/** One image of one repository: `repository` is the name within account `accountId` (never global). */
export interface ScanKey {
  accountId: string;
  repository: string;
  digest: Digest;
}

/** Inventories by image manifest digest: read once from the layers, re-matched on every db change. */
export interface InventoryStore {
  /**
   * Stores the inventory of the image with manifest `digest` unless one is stored: an inventory is
   * immutable once written (stored findings name packages by their place in it).
   */
  putInventory(digest: Digest, inventory: Inventory, signal: AbortSignal): Promise<void>;

  /** The stored inventory, or `undefined`. */
  getInventory(digest: Digest, signal: AbortSignal): Promise<Inventory | undefined>;

  /**
   * The names the stored inventory's packages are looked up under (`lookupNames`), read without
   * the inventory itself, so a re-evaluation can tell that no changed record names the image.
   * `undefined` when no inventory is stored, or it was stored before names were kept.
   */
  getInventoryNames(digest: Digest, signal: AbortSignal): Promise<readonly string[] | undefined>;
}
