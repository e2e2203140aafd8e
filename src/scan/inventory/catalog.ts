import { posix } from 'node:path';
import type { Digest } from '../../core/digest.js';
import type { InstalledPackage, Inventory } from '../../core/scanning.js';
import type { MergedFilesystem } from '../layers/merge.js';
import type { Want } from '../layers/read-layer.js';
import { parseApkInstalled } from './apk.js';
import { AUDITABLE_MARKER, parseCargoAuditable } from './cargo-auditable.js';
import { parseCargoLock } from './cargo.js';
import { parseDpkgStatus } from './dpkg.js';
import { parseGoBuildInfo } from './go.js';
import { parseJavaArchive } from './java.js';
import { parseNpmLock, parseNpmPackageJson } from './npm.js';
import { parseOsRelease } from './os-release.js';
import { parsePythonMetadata } from './python.js';
import { RpmDbError } from './rpm-db-error.js';
import { parseRpmDb } from './rpm.js';

type Parser = (data: Buffer, path: string) => InstalledPackage[] | Promise<InstalledPackage[]>;

const text = (f: (t: string, p: string) => InstalledPackage[]): Parser => (d, p) => f(d.toString('utf8'), p);

/** Which files hold package data, and how each is read. Order only matters for readability. */
const CATALOG: { test: (path: string) => boolean; parse: Parser }[] = [
  { test: (p) => p === 'var/lib/dpkg/status', parse: text(parseDpkgStatus) },
  { test: (p) => p.startsWith('var/lib/dpkg/status.d/') && !p.endsWith('.md5sums'), parse: text(parseDpkgStatus) },
  { test: (p) => p === 'lib/apk/db/installed', parse: text(parseApkInstalled) },
  { test: (p) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(p), parse: text(parseNpmPackageJson) },
  { test: (p) => posix.basename(p) === 'package-lock.json' && !p.includes('node_modules/'), parse: text(parseNpmLock) },
  { test: (p) => /\.dist-info\/METADATA$/.test(p) || /\.egg-info(\/PKG-INFO)?$/.test(p), parse: text(parsePythonMetadata) },
  { test: (p) => posix.basename(p) === 'Cargo.lock', parse: text(parseCargoLock) },
  { test: (p) => /\.(jar|war|ear)$/i.test(p), parse: parseJavaArchive },
];

const OS_RELEASE = ['etc/os-release', 'usr/lib/os-release'];
/**
 * Where rpm keeps its database, most current format first: rpmdb.sqlite (RPM 4.16+), NDB Packages.db
 * (SUSE), BerkeleyDB Packages (RHEL/CentOS <= 8, Amazon Linux 2; SUSE before NDB). Only one is the
 * image's live database; a leftover from a format conversion must not list every package twice.
 */
const RPMDB = ['usr/lib/sysimage/rpm/rpmdb.sqlite', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/Packages.db', 'var/lib/rpm/Packages.db', 'var/lib/rpm/Packages', 'usr/lib/sysimage/rpm/Packages'];

/** What the layer reader does with a regular file at `path`. Executables are probed for Go build info and `cargo auditable` data. */
export function wantFile(path: string, executable: boolean): Want {
  if (OS_RELEASE.includes(path) || RPMDB.includes(path)) return 'collect';
  if (CATALOG.some((c) => c.test(path))) return 'collect';
  return executable ? 'probe' : 'skip';
}

/** Reads the merged filesystem's kept files into an inventory. */
export async function buildInventory(fs: MergedFilesystem): Promise<Inventory> {
  const inventory: Inventory = { packages: [], notes: [] };
  for (const p of OS_RELEASE) {
    const f = fs.read(p);
    const os = f ? parseOsRelease(f.data.toString('utf8')) : undefined;
    if (os) {
      inventory.os = os;
      break;
    }
  }
  let rpmdb: string | undefined;
  for (const p of RPMDB) {
    const f = fs.files.get(p);
    if (!f) continue;
    if (rpmdb) {
      inventory.notes.push(`${p}: not read; ${rpmdb} is the image's rpm database`);
      continue;
    }
    try {
      for (const pkg of parseRpmDb(f.data, p)) inventory.packages.push({ ...pkg, layer: f.layer as Digest });
      rpmdb = p;
    } catch (err) {
      if (!(err instanceof RpmDbError)) throw err;
      inventory.notes.push(`${p}: unreadable rpm database: ${err.message}`);
    }
  }
  for (const p of fs.oversized) inventory.notes.push(`${p}: larger than the per-file limit, not read`);
  const paths = [...fs.files.keys()].sort();
  for (const path of paths) {
    const f = fs.files.get(path)!;
    if (RPMDB.includes(path)) continue;
    const entry = CATALOG.find((c) => c.test(path));
    let pkgs: InstalledPackage[] = [];
    if (entry) pkgs = await entry.parse(f.data, path);
    else if (f.data.subarray(0, 14).toString('latin1') === '\xff Go buildinf:') pkgs = parseGoBuildInfo(f.data, path);
    else if (f.data.subarray(0, AUDITABLE_MARKER.length).equals(AUDITABLE_MARKER)) pkgs = parseCargoAuditable(f.data, path);
    for (const pkg of pkgs) inventory.packages.push({ ...pkg, layer: f.layer as Digest });
  }
  return inventory;
}
