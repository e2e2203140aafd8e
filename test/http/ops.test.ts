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
    assert.deepEqual(ready.json(), { status: 'ready', stores: { meta: 'ok', identity: 'ok', blob: 'ok' } });
  });

  it('/readyz answers 503 naming the store that fails or does not answer in time', async () => {
    const app = await memoryApp();
    const blobs = app.blobs as { uploadSize: (id: string, signal: AbortSignal) => Promise<number | undefined> };
    blobs.uploadSize = () => Promise.reject(new Error('bucket unreachable'));
    const failed = await app.server.inject({ method: 'GET', url: '/readyz' });
    assert.equal(failed.statusCode, 503);
    assert.deepEqual(failed.json(), {
      status: 'unavailable', reason: 'store not answering: blob', failed: ['blob'],
      stores: { meta: 'ok', identity: 'ok', blob: 'bucket unreachable' },
    });
    const identity = app.identity as { getAccount: (id: string, signal: AbortSignal) => Promise<unknown> };
    identity.getAccount = () => new Promise(() => {});
    const started = Date.now();
    const hung = await app.server.inject({ method: 'GET', url: '/readyz' });
    assert.equal(hung.statusCode, 503);
    assert.deepEqual((hung.json() as { failed: string[] }).failed, ['identity', 'blob']);
    assert.match((hung.json() as { stores: Record<string, string> }).stores.identity!, /no answer within 2000 ms/);
    assert.ok(Date.now() - started < 4000, 'the probe is bounded by its timeout');
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
    // The process metrics start after start-up or at the first scrape, whichever comes first.
    assert.match(text, /berth_process_cpu_user_seconds_total \d/);
    assert.match(text, /berth_nodejs_eventloop_lag_seconds \d/);
  });
});
