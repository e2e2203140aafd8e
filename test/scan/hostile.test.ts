import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Digest } from '../../src/core/digest.js';
import type { DomainEvent } from '../../src/core/events.js';
import { DEFAULT_ACCOUNT_ID } from '../../src/core/ports/meta-store.js';
import { repoKey } from '../../src/core/repo-key.js';
import { DEFAULT_LAYER_LIMITS, type LayerLimits } from '../../src/scan/layers/limits.js';
import { readLayer } from '../../src/scan/layers/read-layer.js';
import { sniffCompression } from '../../src/scan/layers/decompress.js';
import { wantFile } from '../../src/scan/inventory/catalog.js';
import { probeGoBinary } from '../../src/scan/inventory/go.js';
import { isScanError } from '../../src/scan/scan-error.js';
import { memoryApp, pushBlob } from '../http/helpers.js';
import { compress, imageOf, tarOf, type TestImage } from '../fixtures/scan-images.js';

const LAYER = 'sha256:0000000000000000000000000000000000000000000000000000000000000000' as Digest;

async function read(data: Buffer, limits: Partial<LayerLimits> = {}) {
  return readLayer(Readable.from([data]), sniffCompression(data), LAYER, wantFile, (_p, s) => probeGoBinary(s), { ...DEFAULT_LAYER_LIMITS, ...limits }, AbortSignal.timeout(30_000));
}

async function scanError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isScanError(err), `expected a ScanError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the layer to be refused');
}

/** A 512-byte ustar header (type `x` = PAX extended header) claiming `size` bytes follow. */
function paxHeaderClaiming(size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write('PaxHeader/evil', 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('x', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, Buffer.alloc(1024)]);
}

describe('hostile layers fail the one image with a clear reason', () => {
  it('refuses a member that climbs out of the root', async () => {
    const msg = await scanError(read(gzipSync(await tarOf([{ name: '../../etc/passwd', data: 'x' }]))));
    assert.match(msg, /escapes the root/);
  });

  it('stops a decompression bomb at the uncompressed limit', async () => {
    const bomb = gzipSync(await tarOf([{ name: 'zeros', data: Buffer.alloc(32 * 1024 * 1024) }]));
    assert.ok(bomb.length < 200_000, 'the compressed layer is small');
    const msg = await scanError(read(bomb, { maxLayerBytes: 1024 * 1024 }));
    assert.match(msg, /larger than the limit of 1048576 bytes uncompressed/);
  });

  it('stops a zstd bomb too', async () => {
    const bomb = compress(await tarOf([{ name: 'zeros', data: Buffer.alloc(8 * 1024 * 1024) }]), 'zstd');
    const msg = await scanError(read(bomb, { maxLayerBytes: 1024 * 1024 }));
    assert.match(msg, /larger than the limit/);
  });

  it('bounds the number of entries', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: '' }));
    assert.match(await scanError(read(await tarOf(entries), { maxEntries: 10 })), /more than 10 entries/);
  });

  it('refuses a huge PAX header without buffering it', async () => {
    const msg = await scanError(read(paxHeaderClaiming(512 * 1024 * 1024)));
    assert.match(msg, /could not be read: .*(header|size)/i);
  });

  it('reports corrupt gzip and truncated tar as unreadable layers', async () => {
    const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), randomBytes(4096)]);
    assert.match(await scanError(read(corrupt)), /could not be read/);
    const tar = await tarOf([{ name: 'var/lib/dpkg/status', data: 'Package: a\nVersion: 1\n'.repeat(2000) }]);
    assert.match(await scanError(read(tar.subarray(0, 3000))), /could not be read/);
  });

  it('skips (and notes) a package database over the per-file limit instead of buffering it', async () => {
    const changes = await read(await tarOf([{ name: 'var/lib/dpkg/status', data: 'Package: a\nVersion: 1\n\n'.repeat(10_000) }]), { maxFileBytes: 1024 });
    assert.deepEqual(changes.oversized, ['var/lib/dpkg/status']);
    assert.equal(changes.files.size, 0);
  });

  it('a hostile image ends FAILED with the reason, announced as a domain event, and the registry keeps serving', async () => {
    const app = await memoryApp();
    const events: DomainEvent[] = [];
    app.events.subscribe((e) => events.push(e));
    const image: TestImage = await imageOf([{ entries: [{ name: '../escape', data: 'x' }] }]);
    for (const b of image.blobs) await pushBlob(app.server, 'evil', b.data);
    const put = await app.server.inject({ method: 'PUT', url: '/v2/evil/manifests/v1', payload: image.manifest, headers: { 'content-type': image.mediaType } });
    assert.equal(put.statusCode, 201);
    await app.scan.service.startScan(DEFAULT_ACCOUNT_ID, 'evil', image.manifestDigest as Digest, AbortSignal.timeout(5000));
    await app.scan.runner.idle();
    const scan = await app.scan.service.getScan(DEFAULT_ACCOUNT_ID, 'evil', image.manifestDigest as Digest, AbortSignal.timeout(5000));
    assert.equal(scan?.status, 'FAILED');
    assert.match(scan?.description ?? '', /^The scan failed: layer sha256:[0-9a-f]{64} has an entry that escapes the root: "\.\.\/escape"$/);
    assert.deepEqual(events.filter((e) => e.type === 'image.scanned').map((e) => e.type === 'image.scanned' && [e.repository, e.digest, e.status]), [[repoKey(DEFAULT_ACCOUNT_ID, 'evil'), image.manifestDigest, 'FAILED']]);
    const get = await app.server.inject({ method: 'GET', url: '/v2/evil/manifests/v1' });
    assert.equal(get.statusCode, 200);
  });
});
