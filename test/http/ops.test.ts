import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { memoryApp, pushBlob } from './helpers.js';

describe('operability endpoints', async () => {
  const { server } = await memoryApp();

  it('/healthz and /readyz answer when the backends are up', async () => {
    assert.deepEqual((await server.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
    const ready = await server.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.ok(ready.headers['x-amzn-requestid']);
  });

  it('/metrics counts requests by route and status, upload durations and events', async () => {
    await pushBlob(server, 'metrics/app', randomBytes(2048));
    await server.inject({ method: 'GET', url: '/v2/metrics/app/manifests/none' });
    const text = (await server.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /berth_http_requests_total\{route="uploads",method="POST",status="201"\} 1/);
    assert.match(text, /berth_http_requests_total\{route="manifests",method="GET",status="404"\} 1/);
    assert.match(text, /berth_blob_upload_duration_seconds_count\{kind="monolithic"\} 1/);
    assert.match(text, /berth_events_total\{type="blob.pushed"\} 1/);
    assert.match(text, /berth_http_received_bytes_total/);
  });
});
