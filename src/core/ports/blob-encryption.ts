import type { BlobStore } from './blob-store.js';
import type { Repository } from './meta-store.js';

/**
 * The key a blob's data key is wrapped by, from a repository's `encryptionConfiguration`:
 * the service key (`AES256`), a customer KMS key (`KMS`), or a KMS key plus the service key as
 * a second, independent layer (`KMS_DSSE`). `keyArn` is the full key ARN, resolved when the
 * repository was created.
 */
export type EncryptionScope = { type: 'AES256' } | { type: 'KMS' | 'KMS_DSSE'; keyArn: string };

/** The scope's stable name in the key store: `aes256`, `kms:<arn>`, `dsse:<arn>`. */
export function scopeName(scope: EncryptionScope): string {
  return scope.type === 'AES256' ? 'aes256' : `${scope.type === 'KMS' ? 'kms' : 'dsse'}:${scope.keyArn}`;
}

/**
 * The scope a repository's blobs are stored under. Account-aware through the key: a KMS scope is
 * one key ARN (which names the key's account); `AES256` is the service key, shared by all accounts.
 */
export function scopeOf(repo: Repository): EncryptionScope {
  const e = repo.settings.encryption;
  if (e.encryptionType === 'AES256' || !e.kmsKey) return { type: 'AES256' };
  return { type: e.encryptionType, keyArn: e.kmsKey };
}

/**
 * A blob store that encrypts at rest and can act for one scope: a push through `forScope(s)`
 * wraps the blob's data key under `s`, a read through it unwraps with `s` (so a disabled key
 * stops that repository's pulls). The store's own methods act with the service's rights.
 */
export interface ScopedBlobStore extends BlobStore {
  /** The same store, wrapping and unwrapping data keys under `scope`. */
  forScope(scope: EncryptionScope): BlobStore;
}

export function isScoped(store: BlobStore): store is ScopedBlobStore {
  // `in` first: wrappers (e.g. test proxies) may not answer a read of a method they lack.
  return 'forScope' in store && typeof (store as Partial<ScopedBlobStore>).forScope === 'function';
}

/** The store to use for a repository's blobs. */
export function blobsFor(store: BlobStore, repo: Repository): BlobStore {
  return isScoped(store) ? store.forScope(scopeOf(repo)) : store;
}
