/** /metrics reports what garbage collection reclaimed and when it last ran (SQLite + fs backends). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { pushBlob } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-gc-metrics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const metric = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('GC metrics', () => {
  it('after a run, /metrics shows the bytes reclaimed, blobs deleted and the time of the last run', async () => {
    const config = validateConfig({ dataDir: dir, log: { level: 'silent' }, gc: { intervalMinutes: 0 }, lifecycle: { intervalMinutes: 0 } });
    const app = await createApp(config, { logger: pino({ level: 'silent' }), openRegistry: true });
    try {
      const before = await app.server.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metric(before.body, 'berth_gc_reclaimed_bytes_total'), 0);
      assert.equal(metric(before.body, 'berth_gc_last_run_timestamp_seconds'), 0);
      // A blob pushed and never referenced: garbage once the (here: zero) grace period is over.
      await pushBlob(app.server, 'gc/metrics', Buffer.alloc(1234, 7));
      const r = await app.gc!.run({ graceMs: -1, uploadMaxAgeMs: 3_600_000 }, AbortSignal.timeout(10_000));
      assert.deepEqual([r.linksDeleted, r.blobsDeleted, r.bytesReclaimed], [1, 1, 1234]);
      const text = (await app.server.inject({ method: 'GET', url: '/metrics' })).body;
      assert.equal(metric(text, 'berth_gc_reclaimed_bytes_total'), 1234);
      assert.equal(metric(text, 'berth_gc_deleted_blobs_total'), 1);
      assert.equal(metric(text, 'berth_gc_last_run_reclaimed_bytes'), 1234);
      assert.ok(Math.abs(metric(text, 'berth_gc_last_run_timestamp_seconds')! - Date.now() / 1000) < 60);
    } finally {
      await app.close();
    }
  });
});
