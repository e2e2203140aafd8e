import type { Digest } from '../core/digest.js';
import { fail } from '../core/errors.js';
import { repoAccount, repoKey, repoName, type RepoKey } from '../core/repo-key.js';
import type { ImageScanning } from '../core/ports/image-scanning.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { MetaStore, Repository } from '../core/ports/meta-store.js';
import type { InventoryStore, ScanStore } from '../core/ports/scan-store.js';
import { DEFAULT_REGISTRY_SCANNING, type RegistryScanningConfig, type ScanRecord } from '../core/scanning.js';
import { effectiveScanning } from './config.js';
import { classifyManifest } from './classify.js';

export const SCAN_JOB = 'scan.image';
export const REEVALUATE_JOB = 'scan.reevaluate';

/** What a scan job carries. */
export interface ScanJobPayload {
  accountId: string;
  /** The repository's name within `accountId`. */
  repository: string;
  digest: Digest;
}

/** ECR allows one requested scan per image per day. */
const MANUAL_SCAN_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** The scanning use cases behind the ECR operations and the push trigger. */
export class ScanService implements ImageScanning {
  constructor(
    private readonly meta: MetaStore,
    private readonly scans: ScanStore & InventoryStore,
    private readonly jobs: JobQueue,
    private readonly onQueued: () => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async getRegistryConfig(accountId: string, signal: AbortSignal): Promise<RegistryScanningConfig> {
    return (await this.scans.getRegistryConfig(accountId, signal)) ?? DEFAULT_REGISTRY_SCANNING;
  }

  async putRegistryConfig(accountId: string, config: RegistryScanningConfig, signal: AbortSignal): Promise<RegistryScanningConfig> {
    await this.scans.putRegistryConfig(accountId, config, signal);
    return config;
  }

  async repositoryConfig(repository: Repository, signal: AbortSignal): ReturnType<ImageScanning['repositoryConfig']> {
    return effectiveScanning(await this.getRegistryConfig(repository.accountId, signal), repository);
  }

  async startScan(accountId: string, repository: string, digest: Digest, signal: AbortSignal): Promise<ScanRecord> {
    const record = await this.meta.getManifest(repoKey(accountId, repository), digest, signal);
    if (!record) throw fail('ImageNotFound', `The image with imageId {imageDigest:'${digest}', imageTag:'null'} does not exist within the repository with name '${repository}' in the registry with id '${accountId}'`);
    const kind = classifyManifest(record.body, record.mediaType);
    if (kind.kind !== 'image') {
      throw fail('UnsupportedImageType', kind.kind === 'index'
        ? 'The operation is not supported for this image type: an image index is scanned per platform image; start a scan of each image it lists.'
        : `The operation is not supported for this image type: ${kind.reason}.`);
    }
    const at = this.now();
    const key = { accountId, repository, digest };
    if (!await this.scans.recordManualScan(key, at, new Date(at.getTime() - MANUAL_SCAN_INTERVAL_MS), signal)) {
      throw fail('LimitExceeded', 'The scan quota per image has been exceeded. Wait and try again.');
    }
    return this.queue(key, signal);
  }

  getScan(accountId: string, repository: string, digest: Digest, signal: AbortSignal): Promise<ScanRecord | undefined> {
    return this.scans.getScan({ accountId, repository, digest }, signal);
  }

  getScans(accountId: string, repository: string, digests: readonly Digest[], signal: AbortSignal): Promise<Map<Digest, ScanRecord>> {
    return this.scans.getScans(accountId, repository, digests, signal);
  }

  /**
   * Scans a just-pushed manifest when its repository scans on push. Index and artifact pushes
   * are ignored: an index's platform images are pushed (and scanned) on their own.
   */
  async onPush(repository: RepoKey, digest: Digest, signal: AbortSignal): Promise<void> {
    const repo = await this.meta.getRepository(repository, signal);
    if (!repo) return;
    const cfg = await this.repositoryConfig(repo, signal);
    if (!cfg.scanOnPush) return;
    const record = await this.meta.getManifest(repository, digest, signal);
    if (!record || classifyManifest(record.body, record.mediaType).kind !== 'image') return;
    await this.queue({ accountId: repoAccount(repository), repository: repoName(repository), digest }, signal);
  }

  /** Marks the image IN_PROGRESS (keeping earlier findings for first-seen times) and queues its job. */
  private async queue(key: ScanJobPayload, signal: AbortSignal): Promise<ScanRecord> {
    const previous = await this.scans.getScan(key, signal);
    const cfg = await this.getRegistryConfig(key.accountId, signal);
    const record: ScanRecord = {
      ...key, status: 'IN_PROGRESS', description: 'The scan is in progress.', scanType: cfg.scanType,
      startedAt: this.now(), findings: previous?.findings ?? [], firstObserved: previous?.firstObserved ?? {},
    };
    await this.scans.putScan(record, signal);
    await this.jobs.enqueue({ kind: SCAN_JOB, payload: key, dedupeKey: `${key.accountId}/${key.repository}@${key.digest}` }, signal);
    this.onQueued();
    return record;
  }

  /** Queues one re-evaluation of every stored inventory (after the vulnerability database changed). */
  async queueReevaluation(signal: AbortSignal): Promise<void> {
    await this.jobs.enqueue({ kind: REEVALUATE_JOB, payload: {}, dedupeKey: 'all' }, signal);
    this.onQueued();
  }
}
