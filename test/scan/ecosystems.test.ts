import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Digest } from '../../src/core/digest.js';
import { readInventory } from '../../src/scan/image-reader.js';
import { DEFAULT_LAYER_LIMITS } from '../../src/scan/layers/limits.js';
import { RPMTAG } from '../../src/scan/inventory/rpm.js';
import { osEcosystems } from '../../src/scan/match/ecosystems.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { imageOf, type TarEntry } from '../fixtures/scan-images.js';

const s = (): AbortSignal => AbortSignal.timeout(30_000);

async function inventoryOf(entries: TarEntry[]) {
  const image = await imageOf([{ entries }]);
  const blobs = new MemoryBlobStore();
  for (const b of image.blobs) {
    await blobs.appendUpload(b.digest.slice(7, 40), 0, Readable.from([b.data]), s());
    await blobs.commitUpload(b.digest.slice(7, 40), b.digest as Digest, s());
  }
  return readInventory(image.layerDigests as Digest[], blobs, DEFAULT_LAYER_LIMITS, s());
}

const summary = (inv: Awaited<ReturnType<typeof inventoryOf>>) => inv.packages.map((p) => `${p.type}:${p.name}@${p.version}${p.source ? `<${p.source.name}` : ''}`).sort();

/** An rpm header blob as rpmdb stores it: counts, 16-byte index entries, then the data store. */
function rpmHeader(tags: [number, string | number][]): Buffer {
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let offset = 0;
  for (const [tag, value] of tags) {
    const e = Buffer.alloc(16);
    let bytes: Buffer;
    if (typeof value === 'number') {
      const pad = (4 - (offset % 4)) % 4; // INT32 data is 4-byte aligned
      if (pad) { data.push(Buffer.alloc(pad)); offset += pad; }
      bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value);
      e.writeUInt32BE(4, 4);
    } else {
      bytes = Buffer.from(`${value}\0`);
      e.writeUInt32BE(6, 4);
    }
    e.writeUInt32BE(tag, 0);
    e.writeUInt32BE(offset, 8);
    e.writeUInt32BE(1, 12);
    index.push(e);
    data.push(bytes);
    offset += bytes.length;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(tags.length, 0);
  head.writeUInt32BE(offset, 4);
  return Buffer.concat([head, ...index, ...data]);
}

/** A Go 1.18+ build-info blob: 32-byte header (flag 2 = inline strings), then varint-prefixed strings. */
function goBuildInfo(goVersion: string, modinfo: string): Buffer {
  const varint = (n: number): Buffer => {
    const out: number[] = [];
    while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
    out.push(n);
    return Buffer.from(out);
  };
  const header = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(header);
  header[14] = 8;
  header[15] = 2;
  const sentinel = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
  const mod = Buffer.concat([sentinel, Buffer.from(modinfo), sentinel]);
  return Buffer.concat([Buffer.from('\x7fELF padding '.repeat(300)), header, varint(goVersion.length), Buffer.from(goVersion), varint(mod.length), mod, Buffer.alloc(4096)]);
}

describe('language and RPM inventories', () => {
  it('reads an SQLite rpmdb (epoch, release, source rpm) and notes a leftover Packages file it does not read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-rpm-'));
    try {
      const file = join(dir, 'rpmdb.sqlite');
      const db = new Database(file);
      db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
      const put = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
      put.run(rpmHeader([[RPMTAG.NAME, 'openssl-libs'], [RPMTAG.VERSION, '3.0.7'], [RPMTAG.RELEASE, '24.el9'], [RPMTAG.EPOCH, 1], [RPMTAG.ARCH, 'x86_64'], [RPMTAG.SOURCERPM, 'openssl-3.0.7-24.el9.src.rpm']]));
      put.run(rpmHeader([[RPMTAG.NAME, 'bash'], [RPMTAG.VERSION, '5.1.8'], [RPMTAG.RELEASE, '6.el9_1'], [RPMTAG.ARCH, 'x86_64'], [RPMTAG.SOURCERPM, 'bash-5.1.8-6.el9_1.src.rpm']]));
      put.run(rpmHeader([[RPMTAG.NAME, 'gpg-pubkey'], [RPMTAG.VERSION, 'fd431d51'], [RPMTAG.RELEASE, '4ae0493b']]));
      db.close();
      const inv = await inventoryOf([
        { name: 'etc/os-release', data: 'ID="rocky"\nVERSION_ID="9.3"\n' },
        { name: 'var/lib/rpm/rpmdb.sqlite', data: readFileSync(file) },
        { name: 'var/lib/rpm/Packages', data: 'bdb bytes' },
      ]);
      assert.deepEqual(summary(inv), ['rpm:bash@5.1.8-6.el9_1<bash', 'rpm:openssl-libs@1:3.0.7-24.el9<openssl']);
      assert.deepEqual(inv.os, { id: 'rocky', versionId: '9.3' });
      assert.deepEqual(inv.notes, ['var/lib/rpm/Packages: not read; var/lib/rpm/rpmdb.sqlite is the image\'s rpm database']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads Python dist-info and egg-info, Cargo.lock, Go build info and pom.properties in (nested) jars', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-jar-'));
    try {
      mkdirSync(join(dir, 'inner/META-INF/maven/com.fasterxml.jackson.core/jackson-databind'), { recursive: true });
      writeFileSync(join(dir, 'inner/META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties'), 'groupId=com.fasterxml.jackson.core\nartifactId=jackson-databind\nversion=2.13.0\n');
      assert.equal(spawnSync('zip', ['-qr', '../inner.jar', '.'], { cwd: join(dir, 'inner') }).status, 0);
      mkdirSync(join(dir, 'outer/META-INF/maven/org.example/app'), { recursive: true });
      mkdirSync(join(dir, 'outer/BOOT-INF/lib'), { recursive: true });
      writeFileSync(join(dir, 'outer/META-INF/maven/org.example/app/pom.properties'), '#generated\nversion=1.0.0\ngroupId=org.example\nartifactId=app\n');
      writeFileSync(join(dir, 'outer/BOOT-INF/lib/jackson-databind-2.13.0.jar'), readFileSync(join(dir, 'inner.jar')));
      assert.equal(spawnSync('zip', ['-qr', '../app.jar', '.'], { cwd: join(dir, 'outer') }).status, 0);
      const inv = await inventoryOf([
        { name: 'usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA', data: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\nName: not-this\n' },
        { name: 'usr/lib/python3/site-packages/six-1.16.0.egg-info', data: 'Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\n' },
        { name: 'src/Cargo.lock', data: 'version = 3\n\n[[package]]\nname = "app"\nversion = "0.1.0"\n\n[[package]]\nname = "smallvec"\nversion = "1.6.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "abc"\n' },
        { name: 'usr/local/bin/tool', mode: 0o755, data: goBuildInfo('go1.21.4', 'path\texample.com/tool\nmod\texample.com/tool\t(devel)\t\ndep\tgolang.org/x/net\tv0.17.0\th1:abc=\ndep\tgithub.com/old/mod\tv1.0.0\th1:def=\n=>\tgithub.com/new/mod\tv1.2.0\th1:ghi=\n') },
        { name: 'usr/local/bin/script', mode: 0o755, data: '#!/bin/sh\necho not go\n' },
        { name: 'opt/app.jar', data: readFileSync(join(dir, 'app.jar')) },
      ]);
      assert.deepEqual(summary(inv), [
        'cargo:smallvec@1.6.0',
        'golang:github.com/new/mod@1.2.0',
        'golang:golang.org/x/net@0.17.0',
        'golang:stdlib@1.21.4',
        'maven:com.fasterxml.jackson.core:jackson-databind@2.13.0',
        'maven:org.example:app@1.0.0',
        'pypi:requests@2.31.0',
        'pypi:six@1.16.0',
      ]);
      const jackson = inv.packages.find((p) => p.name.endsWith('jackson-databind'));
      assert.equal(jackson?.path, 'opt/app.jar/BOOT-INF/lib/jackson-databind-2.13.0.jar');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('osEcosystems for Red Hat releases', () => {
  it('RHEL 8 and 9 (and UBI): the main product streams of the major release; RHEL 10: the minor release', () => {
    assert.deepEqual(osEcosystems({ id: 'rhel', versionId: '8.9' }), ['Red Hat:enterprise_linux:8::baseos', 'Red Hat:enterprise_linux:8::appstream', 'Red Hat:enterprise_linux:8::crb']);
    assert.deepEqual(osEcosystems({ id: 'rhel', versionId: '9' }), ['Red Hat:enterprise_linux:9::baseos', 'Red Hat:enterprise_linux:9::appstream', 'Red Hat:enterprise_linux:9::crb']);
    assert.deepEqual(osEcosystems({ id: 'rhel', versionId: '10.1' }), ['Red Hat:enterprise_linux:10.1']);
  });

  it('nothing when the release cannot be told (no advisories of another release are matched)', () => {
    assert.deepEqual(osEcosystems({ id: 'rhel', versionId: '10' }), []);
    assert.deepEqual(osEcosystems({ id: 'rhel', versionId: 'x.y' }), []);
    assert.deepEqual(osEcosystems({ id: 'rhel' }), []);
    assert.deepEqual(osEcosystems({ id: 'centos', versionId: '7' }), []);
  });
});
