import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { sha256 } from './helpers.js';

describe('embedded backends across a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-restart-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const config = validateConfig({ dataDir: dir, log: { level: 'silent' } });
  const open = () => createApp(config, { logger: pino({ level: 'silent' }), openRegistry: true });

  it('an upload session started before a restart is resumed and completed after it', async () => {
    const data = randomBytes(300_000);
    const first = await open();
    const start = await first.server.inject({ method: 'POST', url: '/v2/restart/app/blobs/uploads/' });
    const p1 = await first.server.inject({ method: 'PATCH', url: start.headers.location as string, payload: data.subarray(0, 100_000), headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99999' } });
    assert.equal(p1.statusCode, 202);
    await first.close();

    const second = await open();
    try {
      const status = await second.server.inject({ method: 'GET', url: p1.headers.location as string });
      assert.equal(status.statusCode, 204);
      assert.equal(status.headers.range, '0-99999');
      const put = await second.server.inject({ method: 'PUT', url: `${p1.headers.location}?digest=${sha256(data)}`, payload: data.subarray(100_000), headers: { 'content-type': 'application/octet-stream', 'content-range': '100000-299999' } });
      assert.equal(put.statusCode, 201, put.body);
      const get = await second.server.inject({ method: 'GET', url: `/v2/restart/app/blobs/${sha256(data)}` });
      assert.ok(get.rawPayload.equals(data));
    } finally {
      await second.close();
    }
  });

  it('manifests and tags persist', async () => {
    const first = await open();
    const cfg = Buffer.from('{"os":"linux"}');
    await first.server.inject({ method: 'POST', url: `/v2/restart/persist/blobs/uploads/?digest=${sha256(cfg)}`, payload: cfg, headers: { 'content-type': 'application/octet-stream' } });
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length }, layers: [] });
    const put = await first.server.inject({ method: 'PUT', url: '/v2/restart/persist/manifests/v1', payload: body, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(put.statusCode, 201);
    await first.close();
    const second = await open();
    try {
      const get = await second.server.inject({ method: 'GET', url: '/v2/restart/persist/manifests/v1' });
      assert.equal(get.body, body);
    } finally {
      await second.close();
    }
  });
});
