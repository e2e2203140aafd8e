import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OCI_INDEX, OCI_MANIFEST, errorCode, memoryApp, pushImage } from './helpers.js';

describe('OCI tags, catalog and referrers', async () => {
  const { server } = await memoryApp({ limits: { maxPageSize: 5 } });
  const img = await pushImage(server, 'list/app', 'b');
  for (const tag of ['a', 'c', 'B', 'd', 'e', 'f', '1.0']) {
    await server.inject({ method: 'PUT', url: `/v2/list/app/manifests/${tag}`, payload: img.body, headers: { 'content-type': OCI_MANIFEST } });
  }

  it('lists tags in byte order with n/last pagination and a Link header to the next page', async () => {
    const first = await server.inject({ method: 'GET', url: '/v2/list/app/tags/list?n=3' });
    assert.deepEqual(first.json(), { name: 'list/app', tags: ['1.0', 'B', 'a'] });
    assert.equal(first.headers.link, '</v2/list/app/tags/list?n=3&last=a>; rel="next"');
    const second = await server.inject({ method: 'GET', url: '/v2/list/app/tags/list?n=3&last=a' });
    assert.deepEqual(second.json().tags, ['b', 'c', 'd']);
    const last = await server.inject({ method: 'GET', url: '/v2/list/app/tags/list?n=3&last=d' });
    assert.deepEqual(last.json().tags, ['e', 'f']);
    assert.equal(last.headers.link, undefined);
  });

  it('clamps n to the server limit and still links the rest; n=0 gives an empty list', async () => {
    const res = await server.inject({ method: 'GET', url: '/v2/list/app/tags/list' });
    assert.equal(res.json().tags.length, 5);
    assert.match(res.headers.link as string, /rel="next"/);
    const zero = await server.inject({ method: 'GET', url: '/v2/list/app/tags/list?n=0' });
    assert.deepEqual(zero.json().tags, []);
  });

  it('a bad n is a 400, an unknown repository NAME_UNKNOWN', async () => {
    assert.equal((await server.inject({ method: 'GET', url: '/v2/list/app/tags/list?n=-1' })).statusCode, 400);
    assert.equal(errorCode(await server.inject({ method: 'GET', url: '/v2/list/none/tags/list' })), 'NAME_UNKNOWN');
  });

  it('the catalog lists repositories with pagination', async () => {
    for (const r of ['cat/one', 'cat/two', 'cat/three']) await pushImage(server, r, 'x');
    const res = await server.inject({ method: 'GET', url: '/v2/_catalog?n=2' });
    assert.deepEqual(res.json().repositories, ['cat/one', 'cat/three']);
    const next = await server.inject({ method: 'GET', url: '/v2/_catalog?n=2&last=cat/three' });
    assert.deepEqual(next.json().repositories, ['cat/two', 'list/app']);
  });

  it('referrers lists manifests whose subject is the digest, filters by artifactType, and PUT echoes OCI-Subject', async () => {
    const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size };
    const sig = await pushImage(server, 'list/app', 'sig', { subject, artifactType: 'application/vnd.example.sig', annotations: { 'org.example': 'yes' } });
    const sbom = await pushImage(server, 'list/app', 'sbom', { subject, artifactType: 'application/vnd.example.sbom' });
    const put = await server.inject({ method: 'PUT', url: `/v2/list/app/manifests/${sig.digest}`, payload: sig.body, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(put.headers['oci-subject'], img.digest);

    const all = await server.inject({ method: 'GET', url: `/v2/list/app/referrers/${img.digest}` });
    assert.equal(all.statusCode, 200);
    assert.equal(all.headers['content-type'], OCI_INDEX);
    const index = all.json() as { schemaVersion: number; manifests: { digest: string; artifactType: string; annotations?: Record<string, string> }[] };
    assert.equal(index.schemaVersion, 2);
    assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sig.digest, sbom.digest].sort());
    assert.equal(index.manifests.find((m) => m.digest === sig.digest)?.annotations?.['org.example'], 'yes');
    assert.equal(all.headers['oci-filters-applied'], undefined);

    const filtered = await server.inject({ method: 'GET', url: `/v2/list/app/referrers/${img.digest}?artifactType=application/vnd.example.sbom` });
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(filtered.json().manifests.map((m: { digest: string }) => m.digest), [sbom.digest]);
  });

  it('referrers of a digest nobody refers to is an empty index; a bad digest is DIGEST_INVALID', async () => {
    const none = await server.inject({ method: 'GET', url: `/v2/list/app/referrers/sha256:${'0'.repeat(64)}` });
    assert.equal(none.statusCode, 200);
    assert.deepEqual(none.json().manifests, []);
    assert.equal(errorCode(await server.inject({ method: 'GET', url: '/v2/list/app/referrers/sha256:123' })), 'DIGEST_INVALID');
  });
});
