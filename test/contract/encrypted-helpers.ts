import { randomBytes } from 'node:crypto';
import { DataKeyWrapping } from '../../src/crypto/blob/data-keys.js';
import { EncryptedBlobStore } from '../../src/crypto/blob/encrypted-blob-store.js';
import { MasterKeyring } from '../../src/crypto/keyring.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';
import { openSqliteKeyStore } from '../../src/storage/meta/sqlite/sqlite-key-store.js';

/**
 * Wraps `inner` with a throwaway key store and master key; closing the wrapper also closes its
 * key store. `reopen(inner2)` gives a second wrapper (fresh caches) over the same keys.
 */
export async function encrypted(inner: BlobStore): Promise<EncryptedBlobStore & { reopen(other: BlobStore): EncryptedBlobStore }> {
  const keys = await openSqliteKeyStore({ path: ':memory:' });
  const keyring = new MasterKeyring(randomBytes(32));
  const make = (b: BlobStore) => new EncryptedBlobStore(b, keys, new DataKeyWrapping(keys, keyring, undefined), keyring);
  const store = make(inner);
  const close = store.close.bind(store);
  return Object.assign(store, {
    close: async () => {
      await close();
      await keys.close();
    },
    reopen: make,
  });
}
