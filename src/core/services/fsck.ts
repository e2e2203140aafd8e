import { createHash } from 'node:crypto';
import { parseDigest, type Digest } from '../digest.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetaStore } from '../ports/meta-store.js';
import { kmsScopesReferencing } from './blob-scopes.js';

export interface FsckReport {
  /** Blobs the metadata references (by a manifest or a repository link) that storage lacks. */
  missing: { digest: Digest; referencedBy: string[] }[];
  /** Stored blobs whose bytes do not hash to their digest. */
  corrupt: { digest: Digest; actual: string }[];
  /** Linked blobs whose stored size differs from the recorded one. */
  sizeMismatch: { digest: Digest; recorded: number; stored: number }[];
  /** Stored blobs no repository links (garbage collection may remove them). */
  orphans: { digest: Digest; size: number }[];
  /**
   * Stored blobs still in plaintext (not yet encrypted at rest; `berth encrypt-existing` converts
   * them). With `storage.redirect`, only those a KMS repository's image references: plain objects
   * of AES256 repositories are expected there (counted in `plainObjects`).
   */
  plaintext: Digest[];
  /** With `storage.redirect`: plain objects of AES256 repositories (encrypted by the object store). */
  plainObjects: number;
  /** Staged upload files with no bytes committed, for information. */
  stagedUploads: number;
  checkedBlobs: number;
}

/**
 * Checks metadata against storage: every manifest's blobs exist, every stored blob matches its
 * digest, and lists orphans. Read-only; safe while the registry serves traffic.
 */
export async function fsck(
  meta: MetaStore,
  blobs: BlobStore & { isEncrypted?(d: Digest, s: AbortSignal): Promise<boolean | undefined>; plainServiceScope?: boolean },
  signal: AbortSignal,
): Promise<FsckReport> {
  const report: FsckReport = { missing: [], corrupt: [], sizeMismatch: [], orphans: [], plaintext: [], plainObjects: 0, stagedUploads: 0, checkedBlobs: 0 };
  const stored = new Map<Digest, number>();
  for await (const b of blobs.list(signal)) {
    stored.set(b.digest, b.size);
    const { algorithm } = parseDigest(b.digest);
    const hash = createHash(algorithm);
    let actual: string;
    try {
      if (blobs.isEncrypted && (await blobs.isEncrypted(b.digest, signal)) === false) report.plaintext.push(b.digest);
      for await (const chunk of await blobs.read(b.digest, undefined, signal)) hash.update(chunk as Buffer);
      actual = `${algorithm}:${hash.digest('hex')}`;
    } catch (err) {
      // An encrypted blob that fails authentication (tampered, truncated) is damage, not a crash.
      if (signal.aborted) throw err;
      actual = `unreadable: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (actual !== b.digest) report.corrupt.push({ digest: b.digest, actual });
    report.checkedBlobs++;
  }
  const missing = new Map<Digest, Set<string>>();
  const linked = new Set<Digest>();
  for await (const link of meta.listLinkedBlobs(signal)) {
    linked.add(link.digest);
    const size = stored.get(link.digest);
    if (size === undefined) missing.set(link.digest, missing.get(link.digest) ?? new Set());
    else if (size !== link.size) report.sizeMismatch.push({ digest: link.digest, recorded: link.size, stored: size });
  }
  for await (const ref of meta.listBlobReferences(signal)) {
    if (stored.has(ref.blob)) continue;
    const by = missing.get(ref.blob) ?? new Set<string>();
    by.add(`${ref.repository}@${ref.manifest}`);
    missing.set(ref.blob, by);
  }
  if (blobs.plainServiceScope && report.plaintext.length > 0) {
    const kms = await kmsScopesReferencing(meta, new Set(report.plaintext), signal);
    report.plainObjects = report.plaintext.filter((d) => !kms.has(d)).length;
    report.plaintext = report.plaintext.filter((d) => kms.has(d));
  }
  report.missing = [...missing].map(([digest, by]) => ({ digest, referencedBy: [...by].sort() }));
  for (const [digest, size] of stored) if (!linked.has(digest)) report.orphans.push({ digest, size });
  for await (const _ of blobs.listUploads(signal)) report.stagedUploads++;
  return report;
}

/** True when the report shows damage (orphans and staged uploads are not damage). */
export function fsckFailed(r: FsckReport): boolean {
  return r.missing.length + r.corrupt.length + r.sizeMismatch.length > 0;
}
