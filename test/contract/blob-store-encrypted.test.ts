// The BlobStore contract run over the encrypting wrapper, on both backends: encryption must be
// invisible through the port (plaintext digests, sizes, ranges, upload semantics).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { MasterKeyring } from '../../src/crypto/keyring.js';
import { DataKeyWrapping } from '../../src/crypto/blob/data-keys.js';
import { EncryptedBlobStore } from '../../src/crypto/blob/encrypted-blob-store.js';
import type { BlobStore } from '../../src/core/ports/blob-store.js';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { openSqliteKeyStore } from '../../src/storage/meta/sqlite/sqlite-key-store.js';
import { blobStoreContract } from './blob-store.contract.js';

let base = '';
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-blob-enc-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Wraps `inner`; closing the wrapper also closes its key store. */
export async function encrypted(inner: BlobStore): Promise<EncryptedBlobStore> {
  const keys = await openSqliteKeyStore({ path: ':memory:' });
  const keyring = new MasterKeyring(randomBytes(32));
  const store = new EncryptedBlobStore(inner, keys, new DataKeyWrapping(keys, keyring, undefined), keyring);
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await keys.close();
  };
  return store;
}

blobStoreContract('encrypted(memory)', async () => encrypted(new MemoryBlobStore()));
blobStoreContract('encrypted(fs)', async () => encrypted(await FsBlobStore.open({ root: await mkdtemp(join(base, 'store-')) })));
