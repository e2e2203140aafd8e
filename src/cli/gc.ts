import { runGc } from '../app.js';
import { type CommonFlags, configFromFlags } from './flags.js';

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * A one-line progress bar on stderr when it is a terminal. Hand-rolled: ten lines of `\r` drawing
 * are smaller than any progress-bar dependency, and nothing is drawn when output is piped.
 */
function progressBar(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : width;
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} blobs examined`);
    if (done >= total) process.stderr.write('\n');
  };
}

/** `berth gc [--dry-run]`: one online garbage collection; prints what it frees (or would). */
export async function gcCommand(flags: CommonFlags & { dryRun?: boolean; graceSeconds?: string; json?: boolean }): Promise<void> {
  const config = await configFromFlags(flags);
  const grace = flags.graceSeconds !== undefined ? Number(flags.graceSeconds) : undefined;
  if (grace !== undefined && !(grace >= 0)) throw new Error('--grace-seconds must be a number of seconds, 0 or more');
  const onProgress = flags.json ? undefined : progressBar();
  const report = await runGc(config, {
    dryRun: flags.dryRun ?? false,
    ...(grace !== undefined ? { graceMs: grace * 1000 } : {}),
    ...(onProgress ? { onProgress } : {}),
  }, new AbortController().signal);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const verb = report.dryRun ? 'would free' : 'freed';
  process.stdout.write([
    `${report.dryRun ? 'dry run: ' : ''}examined ${report.blobsScanned} blobs in ${report.durationMs} ms`,
    `unreferenced links ${report.dryRun ? 'to remove' : 'removed'}: ${report.linksDeleted}`,
    `blobs ${verb}: ${report.blobsDeleted} (${report.bytesReclaimed} bytes, ${mib(report.bytesReclaimed)})`,
    `abandoned uploads ${report.dryRun ? 'to sweep' : 'swept'}: ${report.uploadsSwept} (${report.uploadBytesSwept} bytes)`,
  ].join('\n') + '\n');
}
