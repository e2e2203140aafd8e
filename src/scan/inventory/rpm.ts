import Database from 'better-sqlite3';
import type { InstalledPackage } from '../../core/scanning.js';

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

/**
 * Installed packages of an SQLite rpmdb (`rpmdb.sqlite`, RPM 4.16+: Fedora 33+, RHEL 9, Rocky 9,
 * Alma 9). The BerkeleyDB `Packages` and NDB `Packages.db` formats are not read; the caller
 * notes them. Opened from memory, read-only, so a hostile file touches no disk.
 */
export function parseRpmSqlite(file: Buffer, path: string): InstalledPackage[] {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true });
  } catch {
    return [];
  }
  try {
    const rows = db.prepare('select blob from Packages').all() as { blob: Buffer }[];
    const out: InstalledPackage[] = [];
    for (const { blob } of rows) {
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
  } catch {
    return [];
  } finally {
    db.close();
  }
}
