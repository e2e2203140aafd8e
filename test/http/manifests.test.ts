import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, errorCode, memoryApp, pushBlob, pushImage, sha256 } from './helpers.js';

describe('OCI manifests', async () => {
  const { server } = await memoryApp();

  it('PUT by tag stores the manifest; GET and HEAD by tag and by digest return it with its digest and type', async () => {
    const { digest, body } = await pushImage(server, 'man/app', 'v1', { layers: 2 });
    for (const ref of ['v1', digest]) {
      const get = await server.inject({ method: 'GET', url: `/v2/man/app/manifests/${ref}`, headers: { accept: OCI_MANIFEST } });
      assert.equal(get.statusCode, 200);
      assert.equal(get.headers['content-type'], OCI_MANIFEST);
      assert.equal(get.headers['docker-content-digest'], digest);
      assert.deepEqual(get.rawPayload, body);
      const head = await server.inject({ method: 'HEAD', url: `/v2/man/app/manifests/${ref}` });
      assert.equal(head.statusCode, 200);
      assert.equal(head.headers['content-length'], String(body.length));
      assert.equal(head.rawPayload.length, 0);
    }
  });

  it('PUT answers 201 with Location and Docker-Content-Digest', async () => {
    const cfg = await pushBlob(server, 'man/loc', Buffer.from('{}x'));
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 3 }, layers: [] }));
    const res = await server.inject({ method: 'PUT', url: '/v2/man/loc/manifests/latest', payload: body, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['docker-content-digest'], sha256(body));
    assert.equal(res.headers.location, `/v2/man/loc/manifests/${sha256(body)}`);
  });

  it('PUT by digest must match the content (DIGEST_INVALID otherwise)', async () => {
    const { body } = await pushImage(server, 'man/bydigest', sha256('placeholder')).catch((e: Error) => ({ body: Buffer.from(e.message) }));
    assert.match(body.toString(), /400 .*DIGEST_INVALID/);
  });

  it('a manifest naming a missing blob is refused with MANIFEST_BLOB_UNKNOWN and not stored', async () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('missing'), size: 7 }, layers: [] }));
    const res = await server.inject({ method: 'PUT', url: '/v2/man/missing/manifests/v1', payload: body, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
    const get = await server.inject({ method: 'GET', url: '/v2/man/missing/manifests/v1' });
    assert.equal(get.statusCode, 404);
  });

  it('an index needs its child manifests in the repository', async () => {
    const child = await pushImage(server, 'man/index', 'amd64');
    const index = (digests: string[]) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: digests.map((d) => ({ mediaType: OCI_MANIFEST, digest: d, size: child.size, platform: { architecture: 'amd64', os: 'linux' } })) }));
    const bad = await server.inject({ method: 'PUT', url: '/v2/man/index/manifests/multi', payload: index([child.digest, sha256('nope')]), headers: { 'content-type': OCI_INDEX } });
    assert.equal(errorCode(bad), 'MANIFEST_BLOB_UNKNOWN');
    const ok = await server.inject({ method: 'PUT', url: '/v2/man/index/manifests/multi', payload: index([child.digest]), headers: { 'content-type': OCI_INDEX } });
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('an index is served only to clients that accept index types, as ECR does', async () => {
    const get = await server.inject({ method: 'GET', url: '/v2/man/index/manifests/multi', headers: { accept: OCI_MANIFEST } });
    assert.equal(get.statusCode, 404);
    assert.equal(errorCode(get), 'MANIFEST_UNKNOWN');
    const ok = await server.inject({ method: 'GET', url: '/v2/man/index/manifests/multi', headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['content-type'], OCI_INDEX);
  });

  it('a child referenced by an index cannot be deleted before the index', async () => {
    const child = await server.inject({ method: 'GET', url: '/v2/man/index/manifests/amd64' });
    const del = await server.inject({ method: 'DELETE', url: `/v2/man/index/manifests/${child.headers['docker-content-digest']}` });
    assert.equal(del.statusCode, 409);
    assert.equal(errorCode(del), 'DENIED');
  });

  it('Docker schema 2 manifests are stored and served with their own media type', async () => {
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
    const layer = randomBytes(100);
    const cfgDigest = await pushBlob(server, 'man/docker', cfg);
    const layerDigest = await pushBlob(server, 'man/docker', layer);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: cfgDigest, size: cfg.length }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layerDigest, size: layer.length }] }));
    const put = await server.inject({ method: 'PUT', url: '/v2/man/docker/manifests/v2s2', payload: body, headers: { 'content-type': DOCKER_MANIFEST } });
    assert.equal(put.statusCode, 201, put.body);
    const get = await server.inject({ method: 'GET', url: '/v2/man/docker/manifests/v2s2', headers: { accept: DOCKER_MANIFEST } });
    assert.equal(get.headers['content-type'], DOCKER_MANIFEST);
  });

  it('malformed manifests are MANIFEST_INVALID: bad JSON, wrong schema, type mismatch, schema 1', async () => {
    const cases: [string, string][] = [
      ['{not json', OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
      [JSON.stringify({ schemaVersion: 2, config: { mediaType: 'x', digest: 'sha256:zz', size: 1 }, layers: [] }), OCI_MANIFEST],
      ['[]', OCI_MANIFEST],
    ];
    for (const [body, type] of cases) {
      const res = await server.inject({ method: 'PUT', url: '/v2/man/bad/manifests/x', payload: body, headers: { 'content-type': type } });
      assert.equal(res.statusCode, 400, body);
      assert.equal(errorCode(res), 'MANIFEST_INVALID', body);
    }
  });

  it('a manifest over 4 MiB is refused with 413 before it is buffered', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const res = await server.inject({ method: 'PUT', url: '/v2/man/big/manifests/x', payload: big, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(res.statusCode, 413);
    assert.equal(errorCode(res), 'SIZE_INVALID');
  });

  it('an artifact with an empty config and artifactType is accepted without pushing the empty blob', async () => {
    const layer = Buffer.from('signature');
    const layerDigest = await pushBlob(server, 'man/artifact', layer);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }, layers: [{ mediaType: 'application/octet-stream', digest: layerDigest, size: layer.length }] }));
    const res = await server.inject({ method: 'PUT', url: '/v2/man/artifact/manifests/sig', payload: body, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(res.statusCode, 201, res.body);
    const empty = await server.inject({ method: 'GET', url: '/v2/man/artifact/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' });
    assert.equal(empty.body, '{}');
  });

  it('moving a tag points it at the new manifest; the old one stays reachable by digest', async () => {
    const a = await pushImage(server, 'man/move', 'latest');
    const b = await pushImage(server, 'man/move', 'latest');
    const get = await server.inject({ method: 'HEAD', url: '/v2/man/move/manifests/latest' });
    assert.equal(get.headers['docker-content-digest'], b.digest);
    assert.equal((await server.inject({ method: 'HEAD', url: `/v2/man/move/manifests/${a.digest}` })).statusCode, 200);
  });

  it('DELETE by tag removes the tag only; DELETE by digest removes the manifest and its tags', async () => {
    const img = await pushImage(server, 'man/del', 'one');
    await server.inject({ method: 'PUT', url: '/v2/man/del/manifests/two', payload: img.body, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal((await server.inject({ method: 'DELETE', url: '/v2/man/del/manifests/one' })).statusCode, 202);
    assert.equal((await server.inject({ method: 'HEAD', url: '/v2/man/del/manifests/one' })).statusCode, 404);
    assert.equal((await server.inject({ method: 'HEAD', url: '/v2/man/del/manifests/two' })).statusCode, 200);
    assert.equal((await server.inject({ method: 'DELETE', url: `/v2/man/del/manifests/${img.digest}` })).statusCode, 202);
    assert.equal((await server.inject({ method: 'HEAD', url: '/v2/man/del/manifests/two' })).statusCode, 404);
    const again = await server.inject({ method: 'DELETE', url: `/v2/man/del/manifests/${img.digest}` });
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again), 'MANIFEST_UNKNOWN');
  });

  it('unknown repository is NAME_UNKNOWN, unknown manifest MANIFEST_UNKNOWN', async () => {
    const a = await server.inject({ method: 'GET', url: '/v2/no/such/repo/manifests/latest' });
    assert.equal(a.statusCode, 404);
    assert.equal(errorCode(a), 'NAME_UNKNOWN');
    const b = await server.inject({ method: 'GET', url: '/v2/man/app/manifests/nope' });
    assert.equal(errorCode(b), 'MANIFEST_UNKNOWN');
  });

  it('a reference that is neither a tag nor a digest is 404 MANIFEST_UNKNOWN on GET and HEAD (as Distribution), 400 TAG_INVALID on PUT', async () => {
    const { body } = await pushImage(server, 'man/probe', 'v1');
    for (const ref of ['.INVALID_MANIFEST_NAME', 'sha256:xyz', '-dash-first']) {
      const get = await server.inject({ method: 'GET', url: `/v2/man/probe/manifests/${encodeURIComponent(ref)}` });
      assert.equal(get.statusCode, 404, ref);
      assert.equal(errorCode(get), 'MANIFEST_UNKNOWN', ref);
      const head = await server.inject({ method: 'HEAD', url: `/v2/man/probe/manifests/${encodeURIComponent(ref)}` });
      assert.equal(head.statusCode, 404, ref);
    }
    const unknownRepo = await server.inject({ method: 'GET', url: '/v2/man/none/manifests/.INVALID_MANIFEST_NAME' });
    assert.equal(errorCode(unknownRepo), 'NAME_UNKNOWN');
    const put = await server.inject({ method: 'PUT', url: '/v2/man/probe/manifests/.INVALID_MANIFEST_NAME', payload: body, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(put.statusCode, 400);
    assert.equal(errorCode(put), 'TAG_INVALID');
  });

  it('blobs referenced by a manifest cannot be deleted; unreferenced ones can', async () => {
    const img = await pushImage(server, 'man/blobdel', 'v1');
    const manifest = JSON.parse(img.body.toString()) as { layers: { digest: string }[] };
    const layer = manifest.layers[0]!.digest;
    const refused = await server.inject({ method: 'DELETE', url: `/v2/man/blobdel/blobs/${layer}` });
    assert.equal(refused.statusCode, 409);
    const loose = await pushBlob(server, 'man/blobdel', randomBytes(10));
    assert.equal((await server.inject({ method: 'DELETE', url: `/v2/man/blobdel/blobs/${loose}` })).statusCode, 202);
    const gone = await server.inject({ method: 'GET', url: `/v2/man/blobdel/blobs/${loose}` });
    assert.equal(errorCode(gone), 'BLOB_UNKNOWN');
  });
});
