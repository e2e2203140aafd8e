import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MANIFEST_BYTES, parseManifest } from '../../src/core/manifest.js';
import { EMPTY_JSON_DIGEST, MediaType } from '../../src/core/media-types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2, mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: d('a'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('b'), size: 20 }],
  ...extra,
});
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('manifest parsing', () => {
  it('an image manifest references its config and layers', () => {
    const p = parseManifest(buf(image()), MediaType.OciManifest);
    assert.deepEqual(p.blobs, [d('a'), d('b')]);
    assert.equal(p.artifactType, MediaType.OciConfig);
  });

  it('an index references its children, not blobs', () => {
    const p = parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: d('c'), size: 5 }] }), undefined);
    assert.deepEqual(p.manifests, [d('c')]);
    assert.deepEqual(p.blobs, []);
  });

  it('the media type is inferred when neither header nor body gives one', () => {
    const { mediaType: _m, ...bare } = image();
    assert.equal(parseManifest(buf(bare), 'application/json').mediaType, MediaType.OciManifest);
    assert.equal(parseManifest(buf({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MediaType.OciIndex);
  });

  it('foreign layers and the empty JSON config need no blob', () => {
    const p = parseManifest(buf(image({
      config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [{ mediaType: MediaType.DockerForeignLayer, digest: d('f'), size: 1, urls: ['https://example.invalid/x'] }],
    })), MediaType.OciManifest);
    assert.deepEqual(p.blobs, []);
  });

  it('subject, artifactType and annotations are carried', () => {
    const p = parseManifest(buf(image({ artifactType: 'application/x-sig', subject: { mediaType: MediaType.OciManifest, digest: d('e'), size: 3 }, annotations: { a: 'b' } })), MediaType.OciManifest);
    assert.equal(p.subject?.digest, d('e'));
    assert.equal(p.artifactType, 'application/x-sig');
    assert.deepEqual(p.annotations, { a: 'b' });
  });

  it('duplicate references are listed once', () => {
    const p = parseManifest(buf(image({ layers: [{ mediaType: 'x', digest: d('b'), size: 20 }, { mediaType: 'x', digest: d('b'), size: 20 }] })), MediaType.OciManifest);
    assert.deepEqual(p.blobs, [d('a'), d('b')]);
  });

  const invalid: [string, Buffer, string | undefined][] = [
    ['not JSON', Buffer.from('{'), MediaType.OciManifest],
    ['a JSON array', Buffer.from('[]'), MediaType.OciManifest],
    ['schemaVersion 1', buf({ schemaVersion: 1 }), undefined],
    ['a missing config', buf({ schemaVersion: 2, layers: [] }), MediaType.OciManifest],
    ['a negative size', buf(image({ layers: [{ mediaType: 'x', digest: d('b'), size: -1 }] })), MediaType.OciManifest],
    ['an uppercase digest', buf(image({ layers: [{ mediaType: 'x', digest: `sha256:${'B'.repeat(64)}`, size: 1 }] })), MediaType.OciManifest],
    ['Content-Type disagreeing with mediaType', buf(image()), MediaType.DockerManifest],
    ['an unknown media type', buf({ schemaVersion: 2, mediaType: 'application/x-unknown' }), undefined],
  ];
  for (const [what, body, type] of invalid) {
    it(`refuses ${what} with ManifestInvalid`, () => {
      assert.throws(() => parseManifest(body, type), { code: 'ManifestInvalid' });
    });
  }

  it('refuses bodies over the limit with PayloadTooLarge', () => {
    assert.throws(() => parseManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 32), MediaType.OciManifest), { code: 'PayloadTooLarge' });
  });
});
