import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { errorCode, memoryApp, sha256 } from './helpers.js';

describe('OCI blob uploads', async () => {
  const { server } = await memoryApp();

  it('monolithic POST ?digest= stores the blob and answers 201 with Location and digest', async () => {
    const data = randomBytes(5000);
    const digest = sha256(data);
    const res = await server.inject({ method: 'POST', url: `/v2/mono/app/blobs/uploads/?digest=${digest}`, payload: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers.location, `/v2/mono/app/blobs/${digest}`);
    assert.equal(res.headers['docker-content-digest'], digest);
    const get = await server.inject({ method: 'GET', url: `/v2/mono/app/blobs/${digest}` });
    assert.equal(get.statusCode, 200);
    assert.deepEqual(get.rawPayload, data);
  });

  it('POST then PUT with the whole body completes an upload', async () => {
    const data = randomBytes(100);
    const start = await server.inject({ method: 'POST', url: '/v2/two/step/blobs/uploads/' });
    assert.equal(start.statusCode, 202);
    assert.equal(start.headers.range, '0-0');
    assert.ok(start.headers['docker-upload-uuid']);
    const put = await server.inject({ method: 'PUT', url: `${start.headers.location}?digest=${sha256(data)}`, payload: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.statusCode, 201);
    assert.equal(put.headers['docker-content-digest'], sha256(data));
  });

  it('chunked PATCH with Content-Range appends in order and reports progress by GET', async () => {
    const data = randomBytes(3000);
    const start = await server.inject({ method: 'POST', url: '/v2/chunked/blobs/uploads/' });
    let location = start.headers.location as string;
    for (const [from, to] of [[0, 999], [1000, 2499], [2500, 2999]] as const) {
      const res = await server.inject({ method: 'PATCH', url: location, payload: data.subarray(from, to + 1), headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to}` } });
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(res.headers.range, `0-${to}`);
      location = res.headers.location as string;
    }
    const status = await server.inject({ method: 'GET', url: location });
    assert.equal(status.statusCode, 204);
    assert.equal(status.headers.range, '0-2999');
    const put = await server.inject({ method: 'PUT', url: `${location}?digest=${sha256(data)}` });
    assert.equal(put.statusCode, 201, put.body);
    const head = await server.inject({ method: 'HEAD', url: `/v2/chunked/blobs/${sha256(data)}` });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], '3000');
  });

  it('an out-of-order chunk gets 416 with the session range, and the session is unharmed', async () => {
    const start = await server.inject({ method: 'POST', url: '/v2/ooo/blobs/uploads/' });
    const location = start.headers.location as string;
    await server.inject({ method: 'PATCH', url: location, payload: Buffer.alloc(10, 1), headers: { 'content-type': 'application/octet-stream', 'content-range': '0-9' } });
    const bad = await server.inject({ method: 'PATCH', url: location, payload: Buffer.alloc(10, 2), headers: { 'content-type': 'application/octet-stream', 'content-range': '20-29' } });
    assert.equal(bad.statusCode, 416);
    assert.equal(bad.headers.range, '0-9');
    assert.equal(errorCode(bad), 'BLOB_UPLOAD_INVALID');
    const status = await server.inject({ method: 'GET', url: location });
    assert.equal(status.headers.range, '0-9');
  });

  it('streamed PATCH without Content-Range appends', async () => {
    const a = randomBytes(700);
    const b = randomBytes(300);
    const start = await server.inject({ method: 'POST', url: '/v2/streamed/blobs/uploads/' });
    const p1 = await server.inject({ method: 'PATCH', url: start.headers.location as string, payload: a, headers: { 'content-type': 'application/octet-stream' } });
    const p2 = await server.inject({ method: 'PATCH', url: p1.headers.location as string, payload: b, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(p2.headers.range, '0-999');
    const put = await server.inject({ method: 'PUT', url: `${p2.headers.location}?digest=${sha256(Buffer.concat([a, b]))}` });
    assert.equal(put.statusCode, 201);
  });

  it('a wrong digest gets DIGEST_INVALID and stores nothing', async () => {
    const data = randomBytes(64);
    const wrong = sha256('something else');
    const res = await server.inject({ method: 'POST', url: `/v2/wrong/digest/blobs/uploads/?digest=${wrong}`, payload: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'DIGEST_INVALID');
    for (const d of [wrong, sha256(data)]) {
      assert.equal((await server.inject({ method: 'HEAD', url: `/v2/wrong/digest/blobs/${d}` })).statusCode, 404);
    }
  });

  it('a wrong digest on PUT discards the session', async () => {
    const start = await server.inject({ method: 'POST', url: '/v2/wrong/put/blobs/uploads/' });
    const res = await server.inject({ method: 'PUT', url: `${start.headers.location}?digest=${sha256('x')}`, payload: Buffer.from('y'), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(errorCode(res), 'DIGEST_INVALID');
    const status = await server.inject({ method: 'GET', url: start.headers.location as string });
    assert.equal(status.statusCode, 404);
    assert.equal(errorCode(status), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a malformed digest is DIGEST_INVALID, a missing one too', async () => {
    for (const digest of ['sha256:abc', 'md5:' + 'a'.repeat(32), 'sha256:' + 'A'.repeat(64), '../../etc/passwd']) {
      const res = await server.inject({ method: 'POST', url: `/v2/bad/digest/blobs/uploads/?digest=${encodeURIComponent(digest)}`, payload: 'x', headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(res.statusCode, 400, digest);
      assert.equal(errorCode(res), 'DIGEST_INVALID', digest);
    }
    const start = await server.inject({ method: 'POST', url: '/v2/bad/digest/blobs/uploads/' });
    const put = await server.inject({ method: 'PUT', url: start.headers.location as string });
    assert.equal(errorCode(put), 'DIGEST_INVALID');
  });

  it('a body shorter than Content-Range declares is refused with SIZE_INVALID and nothing is kept', async () => {
    const start = await server.inject({ method: 'POST', url: '/v2/short/blobs/uploads/' });
    const res = await server.inject({ method: 'PATCH', url: start.headers.location as string, payload: Buffer.alloc(5), headers: { 'content-type': 'application/octet-stream', 'content-range': '0-9' } });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), 'SIZE_INVALID');
    const status = await server.inject({ method: 'GET', url: start.headers.location as string });
    assert.equal(status.headers.range, '0-0');
  });

  it('DELETE cancels a session; the session is then unknown', async () => {
    const start = await server.inject({ method: 'POST', url: '/v2/cancel/blobs/uploads/' });
    const del = await server.inject({ method: 'DELETE', url: start.headers.location as string });
    assert.equal(del.statusCode, 204);
    const again = await server.inject({ method: 'DELETE', url: start.headers.location as string });
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('an upload session of one repository is unknown in another', async () => {
    const start = await server.inject({ method: 'POST', url: '/v2/owner/blobs/uploads/' });
    const id = start.headers['docker-upload-uuid'] as string;
    await server.inject({ method: 'POST', url: '/v2/other/blobs/uploads/' });
    const res = await server.inject({ method: 'GET', url: `/v2/other/blobs/uploads/${id}` });
    assert.equal(res.statusCode, 404);
    assert.equal(errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('cross-repository mount links the blob (201) and falls back to a session (202) when not mountable', async () => {
    const data = randomBytes(256);
    const digest = sha256(data);
    await server.inject({ method: 'POST', url: `/v2/mount/src/blobs/uploads/?digest=${digest}`, payload: data, headers: { 'content-type': 'application/octet-stream' } });
    const mounted = await server.inject({ method: 'POST', url: `/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src` });
    assert.equal(mounted.statusCode, 201);
    assert.equal(mounted.headers.location, `/v2/mount/dst/blobs/${digest}`);
    const get = await server.inject({ method: 'GET', url: `/v2/mount/dst/blobs/${digest}` });
    assert.deepEqual(get.rawPayload, data);
    const fallback = await server.inject({ method: 'POST', url: `/v2/mount/dst/blobs/uploads/?mount=${sha256('absent')}&from=mount/src` });
    assert.equal(fallback.statusCode, 202);
    assert.match(fallback.headers.location as string, /^\/v2\/mount\/dst\/blobs\/uploads\//);
  });

  it('an empty blob can be uploaded and read', async () => {
    const digest = sha256('');
    const res = await server.inject({ method: 'POST', url: `/v2/empty/blob/blobs/uploads/?digest=${digest}` });
    assert.equal(res.statusCode, 201, res.body);
    const head = await server.inject({ method: 'HEAD', url: `/v2/empty/blob/blobs/${digest}` });
    assert.equal(head.headers['content-length'], '0');
  });
});
