import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidTag, validateRepositoryName } from '../../src/core/names.js';
import { isDigest, parseDigest } from '../../src/core/digest.js';

describe('repository names, tags and digests', () => {
  const names: [string, boolean][] = [
    ['ab', true], ['a', false], ['library/ubuntu', true], ['a.b_c__d-e--f/g', true], ['a/b/c/d', true],
    ['A', false], ['a..b', false], ['a/../b', false], ['..', false], ['/a', false], ['a/', false], ['a//b', false],
    ['a___b', false], ['_a', false], ['a-', false], ['%2e%2e', false], ['a b', false], ['a\u0000b', false],
    ['a'.repeat(256), true], ['a'.repeat(257), false],
  ];
  for (const [name, ok] of names) {
    it(`name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…(${name.length})` : name)} is ${ok ? 'accepted' : 'refused'}`, () => {
      if (ok) assert.equal(validateRepositoryName(name), name);
      else assert.throws(() => validateRepositoryName(name), { code: 'InvalidName' });
    });
  }

  const tags: [string, boolean][] = [['latest', true], ['v1.0.0-rc_1', true], ['_x', true], ['.x', false], ['-x', false], ['a'.repeat(128), true], ['a'.repeat(129), false], ['a/b', false], ['a:b', false]];
  for (const [tag, ok] of tags) {
    it(`tag ${JSON.stringify(tag.slice(0, 20))} is ${ok ? 'valid' : 'invalid'}`, () => assert.equal(isValidTag(tag), ok));
  }

  const digests: [string, boolean][] = [
    [`sha256:${'a'.repeat(64)}`, true], [`sha512:${'0'.repeat(128)}`, true], [`sha256:${'a'.repeat(63)}`, false],
    [`sha256:${'A'.repeat(64)}`, false], [`sha384:${'a'.repeat(96)}`, false], ['sha256:', false], [`sha512:${'0'.repeat(64)}`, false],
  ];
  for (const [d, ok] of digests) {
    it(`digest ${d.slice(0, 16)}…(${d.length}) is ${ok ? 'valid' : 'invalid'}`, () => {
      assert.equal(isDigest(d), ok);
      if (!ok) assert.throws(() => parseDigest(d), { code: 'InvalidDigest' });
    });
  }
});
