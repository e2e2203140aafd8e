import type { Digest } from '../digest.js';

/**
 * What online garbage collection needs of the metadata store, beyond `MetaStore`: batched,
 * self-checking deletes of unreferenced blob links, and the fence around blobs whose bytes it is
 * deleting.
 *
 * ```
 *  repository_blobs (repository, digest, created_at)   a link: the repository may serve the blob
 *        ▲ referenced by manifest_blobs                 (a referenced link cannot be deleted)
 *  gc_blob_fence (digest, fenced_at)                   GC is deleting these bytes: linkBlob refuses
 * ```
 *
 * Why a fence: a push commits bytes first and links them second. If the bytes already existed the
 * commit is a no-op, so between a GC's "no link" check and its delete a push could link bytes that
 * are about to go. The fence is inserted in the same transaction as that check; `linkBlob` refuses
 * a fenced digest, and the push re-checks that the bytes exist after linking (a link made after
 * the fence lifted finds them gone and is undone). Either the GC sees the link, or the push sees
 * the fence or the missing bytes — never a link to nothing.
 */
export interface GcStore {
  /**
   * Deletes at most `limit` links created before `before` that no manifest references, re-checking
   * the reference inside the deleting statement (a manifest committed meanwhile keeps its link).
   * Resolves with the number deleted; call again until it resolves 0.
   */
  deleteUnreferencedLinks(before: Date, limit: number, signal: AbortSignal): Promise<number>;

  /** How many links {@link deleteUnreferencedLinks} would delete now (for dry runs). */
  countUnreferencedLinks(before: Date, signal: AbortSignal): Promise<number>;

  /** Digests with at least one link that is referenced by a manifest or created at/after `before`. */
  liveDigests(before: Date, signal: AbortSignal): Promise<Set<Digest>>;

  /**
   * Of `digests`, fences (atomically, one transaction) and resolves with those that no repository
   * links; the others are left alone. Fencing a fenced digest again is harmless.
   */
  fence(digests: Digest[], at: Date, signal: AbortSignal): Promise<Digest[]>;

  /** Lifts fences (after the bytes are gone). */
  unfence(digests: Digest[], signal: AbortSignal): Promise<void>;

  /** Fenced digests (left by a GC that died between fence and unfence). */
  fenced(signal: AbortSignal): Promise<Digest[]>;

  close(): Promise<void>;
}
