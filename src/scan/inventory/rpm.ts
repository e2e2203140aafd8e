import Database from 'better-sqlite3';
import type { InstalledPackage } from '../../core/scanning.js';
import { readBdbHashValues } from './rpm-bdb.js';
import { RpmDbError } from './rpm-db-error.js';
import { readNdbBlobs } from './rpm-ndb.js';

/** RPM header tags berth reads (rpmtag.h). */
export const RPMTAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, ARCH: 1022, SOURCERPM: 1044 } as const;
const TYPE_INT32 = 4;
const TYPE_STRING = 6;

/**
 * Reads the tags of one RPM header blob as stored in the rpmdb (no lead, no magic): big-endian
 * index count and data length, 16-byte index entries (tag, type, offset, count), then the data.
 * Hand-written: no npm package reads rpm headers, and only five tags are needed.
 */
export function parseRpmHeader(blob: Buffer): Map<number, string | number> {
  const out = new Map<number, string | number>();
  if (blob.length < 8) return out;
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il > 100_000 || dataStart + dl > blob.length) return out;
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = blob.readUInt32BE(e);
    const type = blob.readUInt32BE(e + 4);
    const offset = blob.readUInt32BE(e + 8);
    if (offset >= dl) continue;
    const at = dataStart + offset;
    if (type === TYPE_STRING) {
      const end = blob.indexOf(0, at);
      out.set(tag, blob.subarray(at, end < 0 ? dataStart + dl : end).toString('utf8'));
    } else if (type === TYPE_INT32 && at + 4 <= dataStart + dl) {
      out.set(tag, blob.readInt32BE(at));
    }
  }
  return out;
}

/** `openssl-3.0.7-24.el9.src.rpm` → `openssl` (the version and release are the last two dashes). */
function sourceName(srpm: string): string | undefined {
  const m = /^(.+)-[^-]+-[^-]+\.src\.rpm$/.exec(srpm);
  return m?.[1];
}

/** The rpm packages of header blobs (any rpmdb format); non-header values and `gpg-pubkey` pseudo-packages are skipped. */
export function packagesOfHeaders(blobs: Iterable<Buffer>, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const blob of blobs) {
    const h = parseRpmHeader(blob);
    const name = h.get(RPMTAG.NAME);
    const version = h.get(RPMTAG.VERSION);
    const release = h.get(RPMTAG.RELEASE);
    if (typeof name !== 'string' || typeof version !== 'string' || name === 'gpg-pubkey') continue;
    const epoch = h.get(RPMTAG.EPOCH);
    const full = `${typeof epoch === 'number' && epoch > 0 ? `${epoch}:` : ''}${version}${typeof release === 'string' ? `-${release}` : ''}`;
    const arch = h.get(RPMTAG.ARCH);
    const srpm = h.get(RPMTAG.SOURCERPM);
    const src = typeof srpm === 'string' ? sourceName(srpm) : undefined;
    out.push({ type: 'rpm', name, version: full, path, ...(typeof arch === 'string' ? { arch } : {}), ...(src ? { source: { name: src, version: full } } : {}) });
  }
  return out;
}

/**
 * Header blobs of an SQLite rpmdb (`rpmdb.sqlite`, RPM 4.16+: Fedora 33+, RHEL 9, Rocky 9, Alma 9).
 * Opened from memory, read-only, so a hostile file touches no disk.
 *
 * @throws RpmDbError when the file is not an SQLite database with a `Packages` table.
 */
export function readRpmSqliteBlobs(file: Buffer): Buffer[] {
  let db: Database.Database;
  // rpm writes its database in WAL mode (header bytes 18-19 = 2), which SQLite cannot open from
  // memory; the image holds no -wal file worth replaying (rpm checkpoints on close), so a copy marked
  // as a rollback-journal database reads the same pages.
  const wal = file.length >= 20 && file[18] === 2 && file[19] === 2;
  const image = wal ? Buffer.from(file) : file;
  if (wal) image[18] = image[19] = 1;
  try {
    db = new Database(image, { readonly: true });
  } catch (err) {
    throw new RpmDbError(`not a readable SQLite database (${(err as Error).message})`);
  }
  try {
    return (db.prepare('select blob from Packages').all() as { blob: unknown }[]).flatMap(({ blob }) => (Buffer.isBuffer(blob) ? [blob] : []));
  } catch (err) {
    throw new RpmDbError(`no readable Packages table (${(err as Error).message})`);
  } finally {
    db.close();
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Installed packages of an rpmdb in any of rpm's three formats, told apart by content rather than
 * name (SUSE once kept BerkeleyDB under `usr/lib/sysimage/rpm/Packages`): SQLite (RPM 4.16+),
 * NDB `Packages.db` (SUSE/openSUSE), BerkeleyDB hash `Packages` (RHEL/CentOS 5-8, Amazon Linux 2, UBI 8).
 *
 * @throws RpmDbError when the file is none of them or is corrupt; the inventory notes it.
 */
export function parseRpmDb(file: Buffer, path: string): InstalledPackage[] {
  if (file.subarray(0, 16).toString('latin1') === SQLITE_MAGIC) return packagesOfHeaders(readRpmSqliteBlobs(file), path);
  if (file.subarray(0, 4).toString('latin1') === 'RpmP') return packagesOfHeaders(readNdbBlobs(file), path);
  return packagesOfHeaders(readBdbHashValues(file), path);
}
