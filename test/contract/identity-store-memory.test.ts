import { MemoryIdentityStore } from '../../src/storage/meta/memory/memory-identity-store.js';
import { identityStoreContract } from './identity-store.contract.js';

identityStoreContract('memory', () => Promise.resolve(new MemoryIdentityStore()));
