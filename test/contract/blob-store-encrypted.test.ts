// The BlobStore contract run over the encrypting wrapper, on both backends: encryption must be
// invisible through the port (plaintext digests, sizes, ranges, upload semantics).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';
import { encrypted } from './encrypted-helpers.js';

let base = '';
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-blob-enc-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

blobStoreContract('encrypted(memory)', async () => encrypted(new MemoryBlobStore()));
blobStoreContract('encrypted(fs)', async () => encrypted(await FsBlobStore.open({ root: await mkdtemp(join(base, 'store-')) })));
