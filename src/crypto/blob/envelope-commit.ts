import type { Readable } from 'node:stream';
import type { Digest } from '../../core/digest.js';
import { fail } from '../../core/errors.js';
import type { EncryptionScope } from '../../core/ports/blob-encryption.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { DataKeyWrapping } from './data-keys.js';
import type { StagedUploads } from './staging.js';

/** What is stored under a digest, as the encrypting store sees it. */
export type BlobHead = { kind: 'missing' } | { kind: 'plain'; storedSize?: number } | { kind: 'encrypted'; keyIdHex: string; header: Buffer; segmentBytes: number };

/** What {@link commitAsEnvelope} needs of the encrypting store. */
export interface EnvelopeCommitDeps {
  inner: BlobStore;
  keys: KeyStore;
  wrapping: DataKeyWrapping;
  staged: StagedUploads;
  /** The stored object's kind, fresh (no cached answer for `digest`). */
  head(digest: Digest, signal: AbortSignal): Promise<BlobHead>;
  /** Opens the envelope's data key through the committing scope, adding that scope's wrapping when it has none (needs its key usable). */
  ownWrapping(digest: Digest, keyIdHex: string, signal: AbortSignal): Promise<void>;
}

const SERVICE: EncryptionScope = { type: 'AES256' };
/** Races lost in a row before giving up (each needs another node committing the same digest). */
const ATTEMPTS = 3;

/**
 * Stores `digest` for a KMS scope as an envelope when its bytes are plaintext — a plaintext-staged
 * upload (`storage.redirect` stages in plaintext), or a plain object an `AES256` repository put
 * there in redirect mode — so a KMS repository's blob is never left as a plain object once its
 * commit returns:
 *
 * ```
 *  stored object     action
 *  missing           encrypt the source into a staged envelope, wrap its data key for the scope, commit
 *  plain             the same, wrapped for the scope AND the service key, committed with `replace`
 *                    (AES256 repositories keep reading it, through berth now, no longer redirected)
 *  envelope          keep it; add the scope's wrapping of its data key (the key must be usable)
 * ```
 *
 * Wrappings are recorded before the envelope appears, so a crash leaves either the old object
 * (plaintext, with stale wrappings the encrypting store drops after checking the bytes) or the
 * envelope with its wrappings — never an envelope without a key. A commit that loses a race
 * (another node stored the digest in between) looks again. `from` is the upload to encrypt (deleted
 * once committed) or `'object'` to re-encrypt the stored plain object itself.
 */
export async function commitAsEnvelope(d: EnvelopeCommitDeps, scope: EncryptionScope, from: { upload: string } | 'object', digest: Digest, replace: boolean, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const head = await d.head(digest, signal);
    if (head.kind === 'encrypted' && !replace) {
      await d.ownWrapping(digest, head.keyIdHex, signal);
      return done(d, from);
    }
    if (head.kind === 'missing' && from === 'object') throw fail('BlobNotFound', 'blob unknown to registry', { digest });
    const upgrade = head.kind === 'plain';
    const source: Readable = from === 'object' ? await d.inner.read(digest, undefined, signal) : await d.staged.read(from.upload, signal);
    const { id, key, keyIdHex } = await d.staged.encryptFrom(source, digest, signal);
    try {
      for (const s of upgrade ? [scope, SERVICE] : [scope]) {
        await d.wrapping.put(await d.wrapping.wrap(s, key, { digest, dataKeyId: keyIdHex }, signal), signal);
      }
      await d.inner.commitUpload(id, digest, signal, upgrade || replace);
    } catch (err) {
      // Wrappings already recorded stay: harmless beside a plain object (dropped after a check of
      // its bytes), and needed if the commit did land before the error.
      await d.inner.deleteUpload(id, AbortSignal.timeout(10_000)).catch(() => {});
      throw err;
    }
    const now = await d.head(digest, signal);
    if (now.kind === 'encrypted' && now.keyIdHex === keyIdHex) return done(d, from);
    // Lost a race: another commit stored this digest between our look and our commit.
    await d.keys.deleteDataKeys(digest, keyIdHex, signal);
    if (from !== 'object') await d.inner.deleteUpload(from.upload, signal);
    from = 'object';
    replace = false;
  }
  throw fail('Unavailable', `blob ${digest} is being stored by several pushes at once; retry`, { digest });
}

async function done(d: EnvelopeCommitDeps, from: { upload: string } | 'object'): Promise<void> {
  if (from !== 'object') await d.inner.deleteUpload(from.upload, AbortSignal.timeout(30_000));
}
