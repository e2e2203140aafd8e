import { compare as comparePep440, valid as validPep440 } from '@renovatebot/pep440';
import semver from 'semver';
import { compareApk } from './apk.js';
import { compareDpkg } from './dpkg.js';
import { compareMaven } from './maven.js';
import { compareRpm } from './rpm.js';

export type Compare = (a: string, b: string) => number;

/** Semantic versions (npm, Go with its `v` prefix, crates.io); falls back to coercion for loose input. */
export function compareSemver(a: string, b: string): number {
  const clean = (v: string): string => v.trim().replace(/^v/, '').replace(/\+incompatible$/, '');
  const x = semver.valid(clean(a), { loose: true }) ?? semver.coerce(clean(a), { includePrerelease: true })?.version ?? '0.0.0';
  const y = semver.valid(clean(b), { loose: true }) ?? semver.coerce(clean(b), { includePrerelease: true })?.version ?? '0.0.0';
  return semver.compare(x, y, { loose: true });
}

/** PEP 440 (PyPI): epochs, pre/post/dev releases and local versions, by the renovate library. */
export function comparePypi(a: string, b: string): number {
  if (!validPep440(a) || !validPep440(b)) return a < b ? -1 : a > b ? 1 : 0;
  return comparePep440(a, b);
}

/**
 * The version order of an OSV ecosystem (`Debian:12` → Debian's), or `undefined` when berth does
 * not know it (records of such ecosystems then match by their explicit `versions` list only).
 */
export function comparatorFor(ecosystem: string): Compare | undefined {
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'Debian': case 'Ubuntu':
      return compareDpkg;
    case 'Alpine': case 'Wolfi': case 'Chainguard':
      return compareApk;
    case 'Red Hat': case 'Rocky Linux': case 'AlmaLinux': case 'openSUSE': case 'SUSE': case 'Mageia': case 'openEuler':
      return compareRpm;
    case 'npm': case 'Go': case 'crates.io':
      return compareSemver;
    case 'PyPI':
      return comparePypi;
    case 'Maven':
      return compareMaven;
    default:
      return undefined;
  }
}

export { compareApk, compareDpkg, compareMaven, compareRpm };
