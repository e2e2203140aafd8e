import type { Digest } from '../digest.js';
import type { EventBus } from '../events.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { GcStore } from '../ports/gc-store.js';
import type { MetaStore } from '../ports/meta-store.js';

export interface GcOptions {
  /** A blob or link younger than this is never collected (uploads in flight, pushes about to reference it). */
  graceMs: number;
  /** Upload sessions (and staged bytes) idle for longer than this are swept. */
  uploadMaxAgeMs: number;
  dryRun?: boolean;
  /** Called as blobs are examined: `done` of `total`. */
  onProgress?: (done: number, total: number) => void;
}

export interface GcReport {
  dryRun: boolean;
  /** Blob links (repository → blob) no manifest references, older than the grace period. */
  linksDeleted: number;
  blobsScanned: number;
  blobsDeleted: number;
  bytesReclaimed: number;
  uploadsSwept: number;
  uploadBytesSwept: number;
  startedAt: Date;
  durationMs: number;
}

const BATCH = 500;
const DELETE_PARALLELISM = 16;

/**
 * Online garbage collection: mark from metadata, sweep what is unreferenced and older than the
 * grace period, while pushes and pulls go on (no read-only window, no lock held across the run).
 *
 *  1. Finish deletions a GC that died left fenced (their bytes may be half gone; no link can exist).
 *  2. Links: delete, in short batches, repository links no manifest references that are older than
 *     the grace period. The reference is re-checked inside each deleting statement, so a manifest
 *     committed a moment earlier keeps its blobs; a push that HEADs an old unreferenced link and
 *     then PUTs its manifest after the delete gets MANIFEST_BLOB_UNKNOWN and re-uploads — never a
 *     manifest pointing at nothing (putManifest checks links in its own transaction).
 *  3. Bytes: a blob no repository links, whose bytes are older than the grace period, is fenced in
 *     the same transaction that re-checks it has no link, then deleted, then unfenced (see
 *     core/ports/gc-store.ts for why a push can never link it in between).
 *  4. Upload sessions idle longer than their limit go with their staged bytes.
 */
export class GarbageCollector {
  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly store: GcStore,
    private readonly events: EventBus | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async run(opts: GcOptions, signal: AbortSignal): Promise<GcReport> {
    const startedAt = this.clock();
    const dryRun = opts.dryRun ?? false;
    const before = new Date(startedAt.getTime() - opts.graceMs);
    const report: GcReport = { dryRun, linksDeleted: 0, blobsScanned: 0, blobsDeleted: 0, bytesReclaimed: 0, uploadsSwept: 0, uploadBytesSwept: 0, startedAt, durationMs: 0 };

    if (!dryRun) {
      const leftover = await this.store.fenced(signal);
      for (const d of leftover) await this.blobs.delete(d, signal);
      await this.store.unfence(leftover, signal);
    }

    if (dryRun) report.linksDeleted = await this.store.countUnreferencedLinks(before, signal);
    else for (let n; (n = await this.store.deleteUnreferencedLinks(before, BATCH, signal)) > 0;) report.linksDeleted += n;

    const live = await this.store.liveDigests(before, signal);
    const all: { digest: Digest; size: number; modifiedAt: Date }[] = [];
    for await (const b of this.blobs.list(signal)) all.push(b);
    const candidates: { digest: Digest; size: number }[] = [];
    const flush = async () => {
      if (dryRun) {
        report.blobsDeleted += candidates.length;
        report.bytesReclaimed += candidates.reduce((s, c) => s + c.size, 0);
      } else {
        const fenced = new Set(await this.store.fence(candidates.map((c) => c.digest), this.clock(), signal));
        const doomed = candidates.filter((c) => fenced.has(c.digest));
        // Deletes run DELETE_PARALLELISM at a time: one at a time, a pass is bound by unlink latency.
        for (let i = 0; i < doomed.length; i += DELETE_PARALLELISM) {
          await Promise.all(doomed.slice(i, i + DELETE_PARALLELISM).map((c) => this.blobs.delete(c.digest, signal)));
        }
        for (const c of doomed) {
          report.blobsDeleted++;
          report.bytesReclaimed += c.size;
        }
        await this.store.unfence(doomed.map((c) => c.digest), signal);
      }
      candidates.length = 0;
    };
    for (const b of all) {
      report.blobsScanned++;
      if (!live.has(b.digest) && b.modifiedAt < before) candidates.push(b);
      if (candidates.length >= BATCH) await flush();
      if (report.blobsScanned % 1000 === 0) opts.onProgress?.(report.blobsScanned, all.length);
    }
    await flush();
    opts.onProgress?.(report.blobsScanned, all.length);

    await this.sweepUploads(new Date(startedAt.getTime() - opts.uploadMaxAgeMs), dryRun, report, signal);
    report.durationMs = this.clock().getTime() - startedAt.getTime();
    if (!dryRun) {
      this.events?.emit({ type: 'gc.completed', blobsDeleted: report.blobsDeleted, bytesReclaimed: report.bytesReclaimed, linksDeleted: report.linksDeleted, uploadsSwept: report.uploadsSwept, at: this.clock() });
    }
    return report;
  }

  /** Sessions idle since before `cutoff` with their bytes, and staged bytes that old with no session (monolithic uploads that died). */
  private async sweepUploads(cutoff: Date, dryRun: boolean, report: GcReport, signal: AbortSignal): Promise<void> {
    // Every session (not advanced since now): staged bytes of a live session are never orphans.
    const sessions = await this.meta.listStaleUploads(this.clock(), signal);
    const known = new Set(sessions.map((s) => s.id));
    for (const s of sessions) {
      if (s.updatedAt >= cutoff) continue;
      report.uploadsSwept++;
      report.uploadBytesSwept += s.size;
      if (dryRun) continue;
      await this.blobs.deleteUpload(s.id, signal);
      await this.meta.deleteUpload(s.repository, s.id, signal);
    }
    for await (const u of this.blobs.listUploads(signal)) {
      if (known.has(u.uploadId) || u.modifiedAt >= cutoff) continue;
      report.uploadsSwept++;
      report.uploadBytesSwept += u.size;
      if (!dryRun) await this.blobs.deleteUpload(u.uploadId, signal);
    }
  }
}
