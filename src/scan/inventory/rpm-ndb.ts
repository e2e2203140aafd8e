import { RpmDbError } from './rpm-db-error.js';

/*
 * Hand-written: no npm package reads rpm's NDB `Packages.db` (SUSE, openSUSE), and the format is a
 * small fixed layout (rpm's lib/backend/ndb/rpmpkg.c): a 32-byte header, 4 KiB slot pages of 16-byte
 * slots, and blobs addressed in 16-byte blocks. All integers are little-endian on every host.
 */

const le = (s: string): number => Buffer.from(s, 'latin1').readUInt32LE(0);
const PKGDB_MAGIC = le('RpmP');
const SLOT_MAGIC = le('Slot');
const BLOBHEAD_MAGIC = le('BlbS');
const BLOBTAIL_MAGIC = le('BlbE');
const PAGE = 4096;
const BLK = 16;
const HEAD = 16; // magic, pkgidx, timestamp, length
const TAIL = 12; // adler32, length, magic
const MAX_SLOT_PAGES = 2048; // 500k packages; rpm itself grows one page per 256 packages

/** Adler-32 (RFC 1950) as rpm checksums a blob's header, body and padding; zlib's is not exposed by node. */
function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + 5552); // the most bytes before the sums can overflow 2^32
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Every package header blob of an NDB `Packages.db`, in slot order. Each blob is checked the way
 * rpm checks it (head and tail magic, package index, length, block count, Adler-32), so a torn or
 * hostile file ends in a clear error rather than a wrong package list.
 *
 * @throws RpmDbError when the file is not an NDB package database or a slot or blob is inconsistent.
 */
export function readNdbBlobs(file: Buffer): Buffer[] {
  if (file.length < PAGE || file.readUInt32LE(0) !== PKGDB_MAGIC) throw new RpmDbError('not an rpm NDB database (no RpmP header)');
  if (file.readUInt32LE(4) !== 0) throw new RpmDbError(`unsupported NDB version ${file.readUInt32LE(4)}`);
  const slotPages = file.readUInt32LE(12);
  if (slotPages === 0 || slotPages > MAX_SLOT_PAGES || slotPages * PAGE > file.length) throw new RpmDbError(`implausible slot page count ${slotPages}`);
  const fileBlocks = Math.floor(file.length / BLK);
  const blobs: Buffer[] = [];
  for (let at = 32; at < slotPages * PAGE; at += 16) {
    if (file.readUInt32LE(at) !== SLOT_MAGIC) throw new RpmDbError(`bad slot magic at byte ${at}`);
    const pkgIdx = file.readUInt32LE(at + 4);
    const blkOff = file.readUInt32LE(at + 8);
    const blkCnt = file.readUInt32LE(at + 12);
    if (blkOff === 0) continue; // a free slot
    if (pkgIdx === 0 || blkOff < slotPages * (PAGE / BLK) || blkCnt < 2 || blkOff + blkCnt > fileBlocks) throw new RpmDbError(`slot for package ${pkgIdx} points outside the file`);
    const region = file.subarray(blkOff * BLK, (blkOff + blkCnt) * BLK);
    const len = region.readUInt32LE(12);
    if (region.readUInt32LE(0) !== BLOBHEAD_MAGIC || region.readUInt32LE(4) !== pkgIdx) throw new RpmDbError(`package ${pkgIdx}: no blob header where its slot points`);
    if (blkCnt !== Math.ceil((HEAD + len + TAIL) / BLK)) throw new RpmDbError(`package ${pkgIdx}: blob length ${len} does not fill its ${blkCnt} blocks`);
    const tail = region.length - TAIL;
    if (region.readUInt32LE(tail + 4) !== len || region.readUInt32LE(tail + 8) !== BLOBTAIL_MAGIC) throw new RpmDbError(`package ${pkgIdx}: blob tail missing`);
    if (region.readUInt32LE(tail) !== adler32(region.subarray(0, tail))) throw new RpmDbError(`package ${pkgIdx}: blob checksum mismatch`);
    blobs.push(Buffer.from(region.subarray(HEAD, HEAD + len)));
  }
  return blobs;
}
