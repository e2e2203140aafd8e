import type { InstalledPackage, OsRelease } from '../../core/scanning.js';

/** One lookup of a package in the database: OSV ecosystem, the name there, and the version to compare. */
export interface Query {
  ecosystem: string;
  name: string;
  version: string;
}

/** `3.19.1` → `v3.19` (osv.dev's Alpine ecosystems are per minor release). */
const alpineRelease = (v: string): string => `v${v.split('.').slice(0, 2).join('.')}`;

/**
 * Red Hat's OSV ecosystems are per product stream. RHEL 8 and 9 images (UBI included) install from
 * the main streams, `Red Hat:enterprise_linux:9::baseos` and its `appstream` and `crb` (CodeReady
 * Builder) siblings; RHEL 10 advisories name the minor release (`Red Hat:enterprise_linux:10.1`). The
 * extended-support streams (`rhel_eus`, `rhel_e4s`, `rhel_aus`) are left out: os-release does not say
 * an image follows one.
 */
function redHatEcosystems(versionId: string): string[] {
  const [major = '', minor] = versionId.split('.');
  if (!/^\d+$/.test(major)) return [];
  if (Number(major) >= 10) return minor !== undefined ? [`Red Hat:enterprise_linux:${major}.${minor}`] : [];
  return ['baseos', 'appstream', 'crb'].map((stream) => `Red Hat:enterprise_linux:${major}::${stream}`);
}

/**
 * The OSV ecosystems an operating system's packages are advised in, most specific first:
 * Debian by release number (`Debian:12`), Ubuntu by release with and without `:LTS`, Alpine by
 * minor release, RPM distributions by major release (Red Hat by product stream). Empty when the release is unknown: without
 * it, advisories of another release would be matched.
 */
export function osEcosystems(os: OsRelease | undefined): string[] {
  if (!os) return [];
  const v = os.versionId;
  switch (os.id) {
    case 'debian': return v ? [`Debian:${v.split('.')[0]}`] : [];
    case 'ubuntu': return v ? [`Ubuntu:${v}:LTS`, `Ubuntu:${v}`, `Ubuntu:Pro:${v}:LTS`] : [];
    case 'alpine': return v ? [alpineRelease(v)].map((r) => `Alpine:${r}`) : [];
    case 'wolfi': return ['Wolfi'];
    case 'chainguard': return ['Chainguard'];
    case 'rocky': return v ? [`Rocky Linux:${v.split('.')[0]}`] : [];
    case 'almalinux': return v ? [`AlmaLinux:${v.split('.')[0]}`] : [];
    case 'opensuse-leap': return v ? [`openSUSE:Leap ${v}`] : [];
    case 'mageia': return v ? [`Mageia:${v}`] : [];
    case 'rhel': return v ? redHatEcosystems(v) : [];
    default: return [];
  }
}

const LANGUAGE: Record<string, string> = { npm: 'npm', pypi: 'PyPI', golang: 'Go', maven: 'Maven', cargo: 'crates.io' };

/**
 * The lookups for one installed package. OS advisories name source packages (dpkg `Source:`,
 * apk origin, source rpm), so the source name with the source version is tried as well as the
 * binary name.
 */
export function queriesFor(pkg: InstalledPackage, os: OsRelease | undefined): Query[] {
  const lang = LANGUAGE[pkg.type];
  if (lang) return [{ ecosystem: lang, name: pkg.name, version: pkg.version }];
  const out: Query[] = [];
  for (const ecosystem of osEcosystems(os)) {
    if (pkg.source && pkg.source.name !== pkg.name) out.push({ ecosystem, name: pkg.source.name, version: pkg.source.version });
    out.push({ ecosystem, name: pkg.name, version: pkg.type === 'deb' && pkg.source ? pkg.source.version : pkg.version });
  }
  return out;
}
