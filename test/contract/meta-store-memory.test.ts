import { MemoryMetaStore } from '../../src/storage/meta/memory/memory-meta-store.js';
import { metaStoreContract } from './meta-store.contract.js';

metaStoreContract('memory', () => Promise.resolve(new MemoryMetaStore()));
