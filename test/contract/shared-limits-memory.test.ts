import { describe } from 'node:test';
import { MemorySignInFailures, MemoryTokenBuckets } from '../../src/core/memory-limits.js';
import { sharedLimitsContract } from './shared-limits.contract.js';

describe('shared limits: in-memory (one node)', () => {
  sharedLimitsContract(async () => ({ buckets: new MemoryTokenBuckets(), failures: new MemorySignInFailures(), close: async () => {} }));
});
