import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { errorCode, memoryApp, pushBlob, sha256 } from './helpers.js';

describe('OCI base, ranges and hostile input', async () => {
  const { server } = await memoryApp();

  it('GET /v2/ answers 200 with the API version header and a request id', async () => {
    const res = await server.inject({ method: 'GET', url: '/v2/' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.match(res.headers['x-amzn-requestid'] as string, /^[0-9a-f-]{36}$/);
  });

  it('blob GET honours Range with 206, suffix ranges, and 416 with Content-Range */size when unsatisfiable', async () => {
    const data = randomBytes(1000);
    const digest = await pushBlob(server, 'range/app', data);
    const mid = await server.inject({ method: 'GET', url: `/v2/range/app/blobs/${digest}`, headers: { range: 'bytes=10-19' } });
    assert.equal(mid.statusCode, 206);
    assert.equal(mid.headers['content-range'], 'bytes 10-19/1000');
    assert.deepEqual(mid.rawPayload, data.subarray(10, 20));
    const tail = await server.inject({ method: 'GET', url: `/v2/range/app/blobs/${digest}`, headers: { range: 'bytes=-5' } });
    assert.deepEqual(tail.rawPayload, data.subarray(995));
    const open = await server.inject({ method: 'GET', url: `/v2/range/app/blobs/${digest}`, headers: { range: 'bytes=990-' } });
    assert.deepEqual(open.rawPayload, data.subarray(990));
    const bad = await server.inject({ method: 'GET', url: `/v2/range/app/blobs/${digest}`, headers: { range: 'bytes=1000-1001' } });
    assert.equal(bad.statusCode, 416);
    assert.equal(bad.headers['content-range'], 'bytes */1000');
  });

  it('hostile repository names are NAME_INVALID and never touch storage', async () => {
    const names = ['..', 'a/../b', '%2e%2e/x', 'a/%2e%2e/b', 'UPPER/case', 'a//b', '-lead', 'x', 'a'.repeat(257), 'a/b/', '.hidden/x', 'a%2fb'];
    for (const name of names) {
      const res = await server.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/` });
      assert.ok([400, 404, 405].includes(res.statusCode), `${name}: ${res.statusCode}`);
      assert.ok(res.statusCode < 500);
      if (res.statusCode === 400) assert.equal(errorCode(res), 'NAME_INVALID', name);
    }
    const catalog = await server.inject({ method: 'GET', url: '/v2/_catalog' });
    assert.deepEqual(catalog.json().repositories, ['range/app']);
  });

  it('a name of 256 characters is accepted, 257 refused (ECR limits)', async () => {
    const ok = `${'a'.repeat(127)}/${'b'.repeat(128)}`;
    assert.equal(ok.length, 256);
    assert.equal((await server.inject({ method: 'POST', url: `/v2/${ok}/blobs/uploads/` })).statusCode, 202);
    const bad = await server.inject({ method: 'POST', url: `/v2/${ok}c/blobs/uploads/` });
    assert.equal(errorCode(bad), 'NAME_INVALID');
  });

  it('hostile digests and upload ids are refused with 4xx, never 500', async () => {
    for (const d of ['..%2f..%2fetc%2fpasswd', 'sha256:..', `sha256:${'g'.repeat(64)}`, '%00', 'sha256%3A' + 'a'.repeat(63)]) {
      const res = await server.inject({ method: 'GET', url: `/v2/range/app/blobs/${d}` });
      assert.equal(res.statusCode, 400, d);
      assert.equal(errorCode(res), 'DIGEST_INVALID', d);
    }
    for (const id of ['..', '%2e%2e', 'a%2fb', 'x'.repeat(65), '%00']) {
      const res = await server.inject({ method: 'PATCH', url: `/v2/range/app/blobs/uploads/${id}`, payload: 'x', headers: { 'content-type': 'application/octet-stream' } });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${id}: ${res.statusCode}`);
    }
  });

  it('unknown endpoints and methods are 404/405 with an OCI error body', async () => {
    const a = await server.inject({ method: 'GET', url: '/v2/range/app/nothing' });
    assert.equal(a.statusCode, 405);
    assert.equal(errorCode(a), 'UNSUPPORTED');
    const b = await server.inject({ method: 'POST', url: `/v2/range/app/manifests/latest` });
    assert.equal(b.statusCode, 405);
  });

  it('a digest reference on the blob path of another repository is BLOB_UNKNOWN there', async () => {
    const digest = await pushBlob(server, 'iso/one', randomBytes(10));
    await pushBlob(server, 'iso/two', randomBytes(10));
    assert.equal(errorCode(await server.inject({ method: 'GET', url: `/v2/iso/two/blobs/${digest}` })), 'BLOB_UNKNOWN');
    assert.equal(sha256(Buffer.alloc(0)).length, 71);
  });
});
