import { RpmDbError } from './rpm-db-error.js';

/*
 * Hand-written: no npm package reads BerkeleyDB files (the libdb bindings are native, unmaintained and
 * would open a hostile file with a C library), and an rpm `Packages` database needs only a walk over
 * the hash pages of one file: no locking, no log, no btree. Layout per libdb 5.3 `dbinc/db_page.h`.
 */

const HASH_MAGIC = 0x061561;
const P_HASH_UNSORTED = 2; // hash pages written before BerkeleyDB 4.6 (CentOS 5)
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const PAGE_HEADER = 26; // lsn, pgno, prev, next, entries, hf_offset, level, type
const DBMETA_CHKSUM = 0x01;

/** Reads the little- or big-endian integers of one file; BerkeleyDB writes the host's byte order. */
interface Order {
  u16(b: Buffer, at: number): number;
  u32(b: Buffer, at: number): number;
}
const LE: Order = { u16: (b, at) => b.readUInt16LE(at), u32: (b, at) => b.readUInt32LE(at) };
const BE: Order = { u16: (b, at) => b.readUInt16BE(at), u32: (b, at) => b.readUInt32BE(at) };

/**
 * Every data item (the value of each key/value pair) of a BerkeleyDB **hash** database, in page
 * order: inline `H_KEYDATA` items and `H_OFFPAGE` items gathered from their overflow-page chains.
 * Work is bounded by the file: each page is visited at most once as a hash page and once as an
 * overflow page, so cycles, shared chains and out-of-range page numbers end in an error, not a hang.
 *
 * @throws RpmDbError when the file is not a hash database or is inconsistent.
 */
export function readBdbHashValues(file: Buffer): Buffer[] {
  if (file.length < 512) throw new RpmDbError(`${file.length} bytes is too short for a BerkeleyDB metadata page`);
  const o = LE.u32(file, 12) === HASH_MAGIC ? LE : BE.u32(file, 12) === HASH_MAGIC ? BE : undefined;
  if (!o) throw new RpmDbError('not a BerkeleyDB hash database (no hash magic at offset 12)');
  const pageSize = o.u32(file, 20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new RpmDbError(`invalid page size ${pageSize}`);
  if (file[24] !== 0) throw new RpmDbError('the database is encrypted');
  if (file[25] !== P_HASHMETA) throw new RpmDbError(`page 0 has type ${file[25]}, not hash metadata`);
  // A checksummed database keeps a PG_CHKSUM (2 unused bytes, 4-byte checksum) after each page header.
  const header = PAGE_HEADER + ((file[26]! & DBMETA_CHKSUM) !== 0 ? 6 : 0);
  const lastPage = o.u32(file, 32);
  if ((lastPage + 1) * pageSize > file.length) throw new RpmDbError(`the metadata claims ${lastPage + 1} pages of ${pageSize} bytes but the file holds ${file.length} bytes`);
  const page = (n: number): Buffer => file.subarray(n * pageSize, (n + 1) * pageSize);
  const overflowSeen = new Uint8Array(lastPage + 1);

  /** Follows one overflow chain from `first`, expecting `total` bytes. */
  const overflow = (first: number, total: number): Buffer => {
    const parts: Buffer[] = [];
    let got = 0;
    for (let n = first; n !== 0; ) {
      if (n > lastPage) throw new RpmDbError(`overflow page ${n} is past the last page ${lastPage}`);
      if (overflowSeen[n]) throw new RpmDbError(`overflow page ${n} is reached twice (a cycle or a shared chain)`);
      overflowSeen[n] = 1;
      const p = page(n);
      if (p[25] !== P_OVERFLOW) throw new RpmDbError(`page ${n} in an overflow chain has type ${p[25]}`);
      const len = o.u16(p, 22); // on an overflow page hf_offset holds the bytes used
      if (header + len > pageSize || got + len > total) throw new RpmDbError(`overflow page ${n} holds more than its item's ${total} bytes`);
      parts.push(p.subarray(header, header + len));
      got += len;
      n = o.u32(p, 16);
    }
    if (got !== total) throw new RpmDbError(`an overflow chain from page ${first} holds ${got} of ${total} bytes`);
    return Buffer.concat(parts, total);
  };

  const values: Buffer[] = [];
  for (let n = 1; n <= lastPage; n++) {
    const p = page(n);
    if (p[25] !== P_HASH && p[25] !== P_HASH_UNSORTED) continue;
    const entries = o.u16(p, 20);
    if (header + entries * 2 > pageSize || entries % 2 !== 0) throw new RpmDbError(`hash page ${n} claims ${entries} entries`);
    const inp = (i: number): number => o.u16(p, header + i * 2);
    for (let i = 1; i < entries; i += 2) {
      // Items are laid out from the page end downwards in index order: an item ends where the previous one starts.
      const at = inp(i);
      const end = inp(i - 1);
      if (at < header + entries * 2 || end > pageSize || at >= end) throw new RpmDbError(`hash page ${n} item ${i} lies outside the page`);
      if (p[at] === H_KEYDATA) values.push(Buffer.from(p.subarray(at + 1, end)));
      else if (p[at] === H_OFFPAGE) {
        if (end - at !== 12) throw new RpmDbError(`hash page ${n} item ${i} is a malformed off-page reference`);
        const total = o.u32(p, at + 8);
        if (total > file.length) throw new RpmDbError(`an item of ${total} bytes cannot fit a ${file.length}-byte file`);
        values.push(overflow(o.u32(p, at + 4), total));
      }
      // H_DUPLICATE / H_OFFDUP: rpm's Packages database has unique keys, so these are not package headers.
    }
  }
  return values;
}
