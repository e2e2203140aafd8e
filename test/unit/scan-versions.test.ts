import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareApk, compareDpkg, compareMaven, compareRpm, comparePypi, compareSemver, type Compare } from '../../src/scan/versions/index.js';

/** Each row: a < b. Checked both ways, plus reflexivity. */
function table(name: string, cmp: Compare, rows: [string, string][], equal: [string, string][] = []): void {
  describe(`${name} version order`, () => {
    for (const [a, b] of rows) {
      it(`${a} < ${b}`, () => {
        assert.ok(cmp(a, b) < 0, `${a} should sort before ${b}`);
        assert.ok(cmp(b, a) > 0, `${b} should sort after ${a}`);
        assert.equal(cmp(a, a), 0);
      });
    }
    for (const [a, b] of equal) it(`${a} == ${b}`, () => assert.equal(cmp(a, b), 0));
  });
}

table('dpkg', compareDpkg, [
  ['1.0', '1.1'],
  ['1.0~rc1', '1.0'], // tilde sorts before the end
  ['1.0~~', '1.0~'],
  ['1.0', '1.0+b1'], // plus sorts after the end
  ['1.0-1', '1.0-1+deb12u1'],
  ['1.0-1~bpo11+1', '1.0-1'],
  ['1:9.9', '2:1.0'], // epoch wins
  ['9.9', '1:0.1'],
  ['1.2.13.dfsg-1', '1.2.13.dfsg-1+deb12u1'],
  ['1.0a', '1.0b'],
  ['1.0a', '1.0+'], // letters before non-letters
  ['1.9', '1.10'],
  ['3.0.11-1~deb12u2', '3.0.11-1~deb12u3'],
], [['1.0', '1.0-'], ['0:1.0', '1.0'], ['1.01', '1.1']]);

table('rpm', compareRpm, [
  ['1.0', '1.1'],
  ['1.0~rc1', '1.0'],
  ['1.0', '1.0^post1'], // caret sorts after the base
  ['1.0^post1', '1.0.1'],
  ['1.0-1.el9', '1.0-2.el9'],
  ['1.0-24.el9', '1.0-24.el9_2'],
  ['9.9', '1:0.1'],
  ['1.a', '1.1'], // numbers beat letters
  ['2.0.9', '2.0.10'],
  ['3.0.7-24.el9', '3.0.7-25.el9'],
], [['1.0', '1.0-5'], ['1.01', '1.1'], ['0:1.0-1', '1.0-1']]);

table('apk', compareApk, [
  ['1.2.3', '1.2.4'],
  ['1.2.4-r0', '1.2.4-r1'], // -r revisions
  ['1.2.4_rc1', '1.2.4'], // pre-release suffixes before the release
  ['1.2.4_alpha', '1.2.4_beta'],
  ['1.2.4_beta2', '1.2.4_pre1'],
  ['1.2.4', '1.2.4_p1'], // _p after
  ['1.2.4_git20230101', '1.2.4_p1'],
  ['1.2.4a', '1.2.4b'],
  ['1.2.4', '1.2.4a'],
  ['1.36.1-r5', '1.36.1-r15'],
  ['3.1.4-r0', '3.1.4-r5'],
  ['1.9', '1.10'],
], [['1.2.4-r0', '1.2.4']]);

table('semver (npm, Go, crates.io)', compareSemver, [
  ['4.17.20', '4.17.21'],
  ['1.0.0-alpha', '1.0.0-alpha.1'],
  ['1.0.0-alpha.1', '1.0.0-beta'],
  ['1.0.0-rc.1', '1.0.0'],
  ['v0.9.0', 'v0.10.0'], // Go's v prefix
  ['v1.2.3+incompatible', 'v1.2.4'],
], [['1.0.0+build1', '1.0.0+build2']]);

table('PEP 440 (PyPI)', comparePypi, [
  ['1.0.dev1', '1.0a1'],
  ['1.0a1', '1.0b1'],
  ['1.0rc1', '1.0'],
  ['1.0', '1.0.post1'],
  ['1.0.post1', '1.0.1'],
  ['1.0+local', '1.0.post1'],
  ['1!0.1', '2!0.0'],
  ['2.0', '1!0.1'], // epoch
  ['1.9', '1.10'],
], [['1.0', '1.0.0'], ['1.0a1', '1.0.0alpha1']]);

table('Maven', compareMaven, [
  ['1.0-alpha1', '1.0-beta1'],
  ['1.0-beta1', '1.0-milestone1'],
  ['1.0-milestone1', '1.0-rc1'],
  ['1.0-rc1', '1.0-SNAPSHOT'],
  ['1.0-SNAPSHOT', '1.0'],
  ['1.0', '1.0-sp1'],
  ['1.0-sp1', '1.0-whatever'], // unknown qualifiers after known ones
  ['1.0', '1.0.1'],
  ['1.9', '1.10'],
  ['2.12.7', '2.12.7.1'],
  ['1-1', '1.1'],
], [['1.0', '1'], ['1.0.0', '1'], ['1.0-ga', '1.0'], ['1.0-final', '1'], ['1.0-cr1', '1.0-rc1'], ['1.0-RC1', '1.0-rc1']]);
