import type { VulnDbVersion } from '../scanning.js';

/**
 * The offline vulnerability database: OSV records indexed by (ecosystem, package name), imported
 * by `berth vulndb import` and read by the scanner.
 */
export interface VulnDb {
  /** Where the loaded data came from and when it was imported, or `undefined` when empty. */
  info(signal: AbortSignal): Promise<VulnDbInfo | undefined>;

  /**
   * Every record with an `affected` entry for one of `names` in `ecosystem` (an OSV ecosystem
   * string such as `npm`, `Debian:12`, `Alpine:v3.19`). Order is unspecified.
   */
  affecting(ecosystem: string, names: readonly string[], signal: AbortSignal): Promise<OsvRecord[]>;

  /**
   * What changed between `since` and the loaded data: the current form of every record added or
   * modified after `since` (withdrawn ones included), and the ids of records deleted since.
   * `undefined` when that is unknown (`since` is not an ancestor of the loaded import, or data without change tracking), and the
   * caller must match everything again.
   */
  changedSince(since: VulnDbVersion, signal: AbortSignal): Promise<VulnDbChanges | undefined>;

  /**
   * Picks up a newer import made by another process (the import swaps the database file
   * atomically). Resolves `true` when the data changed since the last call.
   */
  reload(signal: AbortSignal): Promise<boolean>;

  close(): Promise<void>;
}

export interface VulnDbInfo {
  source: string;
  importedAt: Date;
  records: number;
  /** Set when the import tracked changes against the previous one (see {@link VulnDb.changedSince}). */
  version?: VulnDbVersion;
}

/** Records changed between an import and a later one of its chain. */
export interface VulnDbChanges {
  /** Added or modified records, as they are now (a withdrawn record is modified, not deleted). */
  records: OsvRecord[];
  /** Ids of records no longer in the database. */
  removed: string[];
}

/** The subset of the OSV schema (https://ossf.github.io/osv-schema/) the matcher reads. */
export interface OsvRecord {
  id: string;
  modified?: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  upstream?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: { type?: string; url: string }[];
  database_specific?: Record<string, unknown>;
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverity[];
  ranges?: { type: string; repo?: string; events: OsvEvent[] }[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}
