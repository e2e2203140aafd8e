import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { blobStoreContract } from './blob-store.contract.js';

blobStoreContract('memory', async () => new MemoryBlobStore());
