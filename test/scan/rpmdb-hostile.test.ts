import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBdbHashValues } from '../../src/scan/inventory/rpm-bdb.js';
import { RpmDbError } from '../../src/scan/inventory/rpm-db-error.js';
import { readNdbBlobs } from '../../src/scan/inventory/rpm-ndb.js';
import { bdbPackages, headerBlobs, inventoryOf, missingRpmTools, ndbPackages, rpmSqliteDb } from '../fixtures/rpmdb.js';

const missing = missingRpmTools();
if (missing) console.log(`# skipping the hostile rpmdb tests: ${missing}`);

const PAGE = 512;
/** Page numbers of a little-endian 512-byte-page BerkeleyDB file whose page type (byte 25) is `type`. */
const pagesOfType = (f: Buffer, type: number): number[] => Array.from({ length: f.length / PAGE }, (_, n) => n).filter((n) => n > 0 && f[n * PAGE + 25] === type);

function refused(read: () => unknown, pattern: RegExp): void {
  assert.throws(read, (err: unknown) => err instanceof RpmDbError && pattern.test(err.message));
}

// Every case mutates a database the real tools wrote, so only the one field under test is wrong.
describe('hostile rpm databases end in a clear note, never a crash or a hang', { skip: missing, timeout: 60_000 }, () => {
  let dir = '';
  let bdb: Buffer = Buffer.alloc(0);
  let ndb: Buffer = Buffer.alloc(0);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-rpmdb-hostile-'));
    const sqlite = rpmSqliteDb(dir, [{ source: 'openssl', name: 'openssl-libs', epoch: 1, version: '1.1.1k', release: '7.el8_6', arch: 'x86_64' }]);
    const blobs = headerBlobs(sqlite);
    bdb = readFileSync(bdbPackages(dir, 'small-pages', blobs, { pageSize: PAGE }));
    ndb = ndbPackages(blobs.map((b) => b.blob));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the unmutated fixtures read', () => {
    assert.equal(readBdbHashValues(bdb).length, 2, 'the next-instance record and one header');
    assert.equal(readNdbBlobs(ndb).length, 1);
  });

  it('BerkeleyDB: a cycle in an overflow chain', () => {
    const f = Buffer.from(bdb);
    const last = pagesOfType(f, 7).find((n) => f.readUInt32LE(n * PAGE + 16) === 0)!;
    f.writeUInt32LE(last, last * PAGE + 16); // the chain's last page points at itself
    refused(() => readBdbHashValues(f), /overflow page \d+ is reached twice/);
  });

  it('BerkeleyDB: an off-page item pointing past the last page, or at a non-overflow page', () => {
    const hash = pagesOfType(bdb, 13);
    const offpage = (f: Buffer): number => {
      for (const n of hash) {
        for (let i = 0; i < f.readUInt16LE(n * PAGE + 20); i++) {
          const at = n * PAGE + f.readUInt16LE(n * PAGE + 26 + i * 2);
          if (f[at] === 3) return at;
        }
      }
      throw new Error('no off-page item in the fixture');
    };
    const far = Buffer.from(bdb);
    far.writeUInt32LE(0x7fffffff, offpage(far) + 4);
    refused(() => readBdbHashValues(far), /overflow page 2147483647 is past the last page/);
    const wrong = Buffer.from(bdb);
    wrong.writeUInt32LE(hash[0]!, offpage(wrong) + 4);
    refused(() => readBdbHashValues(wrong), /in an overflow chain has type 13/);
    const huge = Buffer.from(bdb);
    huge.writeUInt32LE(0xffffffff, offpage(huge) + 8);
    refused(() => readBdbHashValues(huge), /cannot fit/);
  });

  it('BerkeleyDB: page counts, page sizes and entry counts out of range', () => {
    refused(() => readBdbHashValues(bdb.subarray(0, bdb.length / 2)), /claims \d+ pages of 512 bytes but the file holds/);
    const pages = Buffer.from(bdb);
    pages.writeUInt32LE(0xffffffff, 32);
    refused(() => readBdbHashValues(pages), /claims 4294967296 pages/);
    const size = Buffer.from(bdb);
    size.writeUInt32LE(1000, 20);
    refused(() => readBdbHashValues(size), /invalid page size 1000/);
    const entries = Buffer.from(bdb);
    entries.writeUInt16LE(0xfffe, pagesOfType(entries, 13)[0]! * PAGE + 20);
    refused(() => readBdbHashValues(entries), /claims 65534 entries/);
    refused(() => readBdbHashValues(randomBytes(8192)), /not a BerkeleyDB hash database/);
  });

  it('NDB: slot page counts, slots outside the file, bad magic and checksums', () => {
    const pages = Buffer.from(ndb);
    pages.writeUInt32LE(0xffffffff, 12);
    refused(() => readNdbBlobs(pages), /implausible slot page count 4294967295/);
    const outside = Buffer.from(ndb);
    outside.writeUInt32LE(0x7fffffff, 32 + 8);
    refused(() => readNdbBlobs(outside), /slot for package 1 points outside the file/);
    const magic = Buffer.from(ndb);
    magic.write('Slxt', 48, 'latin1');
    refused(() => readNdbBlobs(magic), /bad slot magic at byte 48/);
    const flipped = Buffer.from(ndb);
    flipped[4096 + 40]! ^= 0xff; // a byte of the header blob
    refused(() => readNdbBlobs(flipped), /package 1: blob checksum mismatch/);
    refused(() => readNdbBlobs(ndb.subarray(0, ndb.length - 16)), /points outside the file/);
  });

  it('an unreadable rpmdb is a note in an otherwise complete inventory', async () => {
    const f = Buffer.from(bdb);
    const last = pagesOfType(f, 7).find((n) => f.readUInt32LE(n * PAGE + 16) === 0)!;
    f.writeUInt32LE(last, last * PAGE + 16);
    const inv = await inventoryOf([
      { name: 'var/lib/rpm/Packages', data: f },
      { name: 'usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA', data: 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n' },
    ]);
    assert.deepEqual(inv.packages.map((p) => `${p.type}:${p.name}@${p.version}`), ['pypi:six@1.16.0']);
    assert.deepEqual(inv.notes, [`var/lib/rpm/Packages: unreadable rpm database: overflow page ${last} is reached twice (a cycle or a shared chain)`]);
  });
});
