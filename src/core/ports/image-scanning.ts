import type { Digest } from '../digest.js';
import type { Repository } from './meta-store.js';
import type { RegistryScanningConfig, ScanFrequency, ScanRecord } from '../scanning.js';

/**
 * The scanning use cases the ECR surface calls (implemented by the scan feature module), so
 * `http/` depends on this contract and not on the feature.
 */
export interface ImageScanning {
  /** The account's registry scanning configuration (BASIC with no rules when never set). */
  getRegistryConfig(accountId: string, signal: AbortSignal): Promise<RegistryScanningConfig>;

  /** Replaces it; a rule change takes effect for the next push or database change. */
  putRegistryConfig(accountId: string, config: RegistryScanningConfig, signal: AbortSignal): Promise<RegistryScanningConfig>;

  /** The effective scanning settings of a repository (registry rules and its own `scanOnPush`). */
  repositoryConfig(repository: Repository, signal: AbortSignal): Promise<{ scanOnPush: boolean; scanFrequency: ScanFrequency; appliedScanFilters: RegistryScanningConfig['rules'][number]['repositoryFilters'] }>;

  /**
   * Queues a scan of an image and resolves with its `IN_PROGRESS` record. Throws
   * `UnsupportedImageType` for an index or a non-image artifact and `LimitExceeded` when the image
   * was already scanned on request within 24 h.
   */
  startScan(accountId: string, repository: string, digest: Digest, signal: AbortSignal): Promise<ScanRecord>;

  /** The scan of one image, or `undefined`. */
  getScan(accountId: string, repository: string, digest: Digest, signal: AbortSignal): Promise<ScanRecord | undefined>;

  /** Scans of several images of one repository, keyed by digest. */
  getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>>;
}
