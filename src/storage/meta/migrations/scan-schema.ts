/** Row types of the tables migrations 0008-scanning, 0012-inventory-index and 0013-scan-advisories create (kept apart from schema.ts to merge cheaply). */
export interface ScanSchema {
  jobs: JobsTable;
  registry_scanning: { account_id: string; config: string };
  image_scans: ImageScansTable;
  image_inventories: { digest: string; inventory: string; created_at: number };
  /** Migration 0012 (no row for inventories stored before). */
  image_inventory_index: { digest: string; text_hash: string; names: string };
  /** Migration 0013. */
  scan_advisories: { ref: string; body: string; created_at: number };
}

export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  dedupe_key: string | null;
  state: string;
  attempts: number;
  run_after: number;
  lease_owner: string | null;
  lease_until: number | null;
  error: string | null;
  created_at: number;
}

export interface ImageScansTable {
  account_id: string;
  repository: string;
  digest: string;
  status: string;
  description: string;
  scan_type: string;
  started_at: number;
  completed_at: number | null;
  vuln_source_updated_at: number | null;
  last_manual_at: number | null;
  findings: string;
  first_observed: string;
  /** Migration 0013: the VulnDbVersion the findings were matched against. */
  vulndb_import: string | null;
  vulndb_generation: number | null;
}
