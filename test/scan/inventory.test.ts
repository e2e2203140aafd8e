import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { readInventory } from '../../src/scan/image-reader.js';
import { DEFAULT_LAYER_LIMITS } from '../../src/scan/layers/limits.js';
import { parseDpkgStatus } from '../../src/scan/inventory/dpkg.js';
import { MemoryBlobStore } from '../../src/storage/blob/memory/memory-blob-store.js';
import { ALPINE_OS_RELEASE, DEBIAN_OS_RELEASE, apkInstalled, imageOf, type Compression, type TestImage } from '../fixtures/scan-images.js';

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

async function store(image: TestImage): Promise<MemoryBlobStore> {
  const blobs = new MemoryBlobStore();
  for (const b of image.blobs) {
    const id = `u-${b.digest.slice(7, 19)}`;
    await blobs.appendUpload(id, 0, Readable.from([b.data]), signal());
    await blobs.commitUpload(id, b.digest as Digest, signal());
  }
  return blobs;
}

async function inventoryOf(image: TestImage) {
  return readInventory(image.layerDigests as Digest[], await store(image), DEFAULT_LAYER_LIMITS, signal());
}

const MACHINE_STATUS = readFileSync('/var/lib/dpkg/status', 'utf8');

describe('image inventory', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as Compression[]) {
    it(`lists this machine's dpkg packages from a ${compression} layer, with the os-release symlink followed`, async () => {
      const image = await imageOf([{ compression, entries: [
        { name: 'usr/lib/os-release', data: DEBIAN_OS_RELEASE },
        { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
        { name: 'var/lib/dpkg/status', data: MACHINE_STATUS },
      ] }]);
      const inv = await inventoryOf(image);
      assert.deepEqual(inv.os, { id: 'debian', versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
      const expected = parseDpkgStatus(MACHINE_STATUS, 'var/lib/dpkg/status');
      assert.ok(expected.length > 20, 'this machine has a real dpkg database');
      assert.deepEqual(inv.packages.map((p) => `${p.name}=${p.version}`).sort(), expected.map((p) => `${p.name}=${p.version}`).sort());
      assert.ok(inv.packages.every((p) => p.layer === image.layerDigests[0]));
    });
  }

  it('maps dpkg Source: fields, including a source version that differs from the binary one', () => {
    const pkgs = parseDpkgStatus([
      'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n',
      'Package: libfoo1\nStatus: install ok installed\nSource: foo (1.2-3)\nVersion: 1.2-3+b1\n',
      'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n',
    ].join('\n'), 'var/lib/dpkg/status');
    assert.deepEqual(pkgs, [
      { type: 'deb', name: 'libssl3', version: '3.0.11-1~deb12u2', arch: 'amd64', path: 'var/lib/dpkg/status', source: { name: 'openssl', version: '3.0.11-1~deb12u2' } },
      { type: 'deb', name: 'libfoo1', version: '1.2-3+b1', path: 'var/lib/dpkg/status', source: { name: 'foo', version: '1.2-3' } },
    ]);
  });

  it('reads Alpine, npm and distroless status.d across layers, applying whiteouts, opaque dirs and hard links', async () => {
    const longDir = `app/${'deep/'.repeat(40)}node_modules`;
    const image = await imageOf([
      { entries: [
        { name: 'etc/os-release', data: ALPINE_OS_RELEASE },
        { name: 'lib/apk/db/installed', data: apkInstalled([{ name: 'musl', version: '1.2.4-r2' }, { name: 'libcrypto3', version: '3.1.4-r0', origin: 'openssl' }]) },
        { name: 'app/node_modules/lodash/package.json', data: JSON.stringify({ name: 'lodash', version: '4.17.20' }) },
        { name: 'app/node_modules/removed/package.json', data: JSON.stringify({ name: 'removed', version: '1.0.0' }) },
        { name: 'old/node_modules/hidden/package.json', data: JSON.stringify({ name: 'hidden', version: '1.0.0' }) },
        { name: 'var/lib/dpkg/status.d/base', data: 'Package: base-files\nVersion: 12.4\nArchitecture: amd64\n' },
      ] },
      { compression: 'zstd', entries: [
        { name: 'app/node_modules/.wh.removed', data: '' },
        { name: 'old/.wh..wh..opq', data: '' },
        { name: 'old/node_modules/fresh/package.json', data: JSON.stringify({ name: 'fresh', version: '2.0.0' }) },
        { name: `${longDir}/@scope/long/package.json`, data: JSON.stringify({ name: '@scope/long', version: '0.1.0' }) },
        { name: 'srv/node_modules/linked/package.json', type: 'link', linkname: 'app/node_modules/lodash/package.json' },
      ] },
    ]);
    const inv = await inventoryOf(image);
    assert.equal(inv.os?.id, 'alpine');
    const got = inv.packages.map((p) => `${p.type}:${p.name}@${p.version}:${p.path}${p.source ? `<${p.source.name}` : ''}`).sort();
    assert.deepEqual(got, [
      'apk:libcrypto3@3.1.4-r0:lib/apk/db/installed<openssl',
      'apk:musl@1.2.4-r2:lib/apk/db/installed<musl',
      `deb:base-files@12.4:var/lib/dpkg/status.d/base<base-files`,
      `npm:@scope/long@0.1.0:${longDir}/@scope/long/package.json`,
      'npm:fresh@2.0.0:old/node_modules/fresh/package.json',
      'npm:lodash@4.17.20:app/node_modules/lodash/package.json',
      // A hard link's name carries the target's bytes (the manifest says lodash).
      'npm:lodash@4.17.20:srv/node_modules/linked/package.json',
    ].sort());
  });
});
