import { openEncryptedBackends } from '../app.js';
import { fsck, fsckFailed } from '../core/services/fsck.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/** `berth fsck`: exit 0 when consistent, 1 when blobs are missing, corrupt or of the wrong size. */
export async function fsckCommand(flags: CommonFlags & { json?: boolean }): Promise<void> {
  const config = await configFromFlags(flags);
  const { meta, blobs, close } = await openEncryptedBackends(config);
  try {
    const report = await fsck(meta, blobs, new AbortController().signal);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const lines = [
        `checked ${report.checkedBlobs} stored blobs`,
        `missing: ${report.missing.length}`, ...report.missing.map((m) => `  ${m.digest} (referenced by ${m.referencedBy.join(', ') || 'a repository link'})`),
        `corrupt: ${report.corrupt.length}`, ...report.corrupt.map((c) => `  ${c.digest} hashes to ${c.actual}`),
        `size mismatch: ${report.sizeMismatch.length}`, ...report.sizeMismatch.map((s) => `  ${s.digest} recorded ${s.recorded} stored ${s.stored}`),
        `plaintext (not yet encrypted; run berth encrypt-existing): ${report.plaintext.length}`, ...report.plaintext.map((d) => `  ${d}`),
        ...(blobs.plainServiceScope ? [`plain objects of AES256 repositories (storage.redirect; encrypted by the object store): ${report.plainObjects}`] : []),
        `orphans: ${report.orphans.length}`, ...report.orphans.map((o) => `  ${o.digest} (${o.size} bytes)`),
        `staged uploads: ${report.stagedUploads}`,
        fsckFailed(report) ? 'result: DAMAGED' : 'result: consistent',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (fsckFailed(report)) process.exitCode = 1;
  } finally {
    await close();
  }
}
