import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTagMutable } from '../../src/core/tag-mutability.js';
import type { TagMutability } from '../../src/core/ports/meta-store.js';

describe('tag mutability', () => {
  const rows: [TagMutability, string[], string, boolean][] = [
    ['MUTABLE', [], 'latest', true],
    ['IMMUTABLE', [], 'latest', false],
    ['IMMUTABLE', ['dev-*'], 'dev-1', false],
    ['IMMUTABLE_WITH_EXCLUSION', ['dev-*'], 'dev-1', true],
    ['IMMUTABLE_WITH_EXCLUSION', ['dev-*'], 'v1.0', false],
    ['IMMUTABLE_WITH_EXCLUSION', ['latest', '*-snapshot'], 'x-snapshot', true],
    ['IMMUTABLE_WITH_EXCLUSION', ['a.b'], 'axb', false],
    ['MUTABLE_WITH_EXCLUSION', ['release-*'], 'release-2', false],
    ['MUTABLE_WITH_EXCLUSION', ['release-*'], 'latest', true],
    ['MUTABLE_WITH_EXCLUSION', ['*'], 'anything', false],
  ];
  for (const [mode, filters, tag, mutable] of rows) {
    it(`${mode} with [${filters.join(', ')}] ${mutable ? 'lets' : 'does not let'} ${tag} move`, () => {
      const settings = { imageTagMutability: mode, imageTagMutabilityExclusionFilters: filters.map((filter) => ({ filterType: 'WILDCARD' as const, filter })) };
      assert.equal(isTagMutable(settings, tag), mutable);
    });
  }
});
