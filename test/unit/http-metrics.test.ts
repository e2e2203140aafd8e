/**
 * The per-response counters of src/http/metrics.ts are kept in the process and folded into the
 * prom-client counters when a scrape collects them (issue 12: no labelled prom-client call per
 * counter per response). A scrape must still show every response exactly once, by route, method
 * and status, with the bytes of those measured, and successive scrapes must be cumulative.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { LocalEventBus } from '../../src/core/events.js';
import { Metrics } from '../../src/http/metrics.js';

function value(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('HTTP request metrics', () => {
  it('count every response once, by route, method and status, cumulatively across scrapes', async () => {
    const metrics = new Metrics();
    const app = Fastify();
    metrics.install(app, new LocalEventBus());
    app.get('/a', async () => 'a');
    app.post('/a', async (_req, reply) => reply.code(201).send('made'));
    app.get('/b', async (_req, reply) => reply.code(404).send('missing'));
    await app.ready();
    try {
      for (let i = 0; i < 7; i++) await app.inject({ url: '/a' });
      for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/a', payload: 'x', headers: { 'content-type': 'text/plain' } });
      await app.inject({ url: '/b' });

      let text = await metrics.registry.metrics();
      assert.equal(value(text, 'berth_http_requests_total', 'route="/a",method="GET",status="200"'), 7);
      assert.equal(value(text, 'berth_http_requests_total', 'route="/a",method="POST",status="201"'), 3);
      assert.equal(value(text, 'berth_http_requests_total', 'route="/b",method="GET",status="404"'), 1);
      assert.equal(value(text, 'berth_http_request_duration_seconds_count', 'route="/a",method="GET"'), 7);
      // (inject's socket has no byte counters: the series exists, its value is not checked here.)
      assert.ok(text.includes('berth_http_sent_bytes_total{route="/a"}'), 'bytes sent are counted for the route');

      // A second scrape with nothing new shows the same values (nothing counted twice).
      text = await metrics.registry.metrics();
      assert.equal(value(text, 'berth_http_requests_total', 'route="/a",method="GET",status="200"'), 7);
      assert.equal(value(text, 'berth_http_requests_total', 'route="/b",method="GET",status="404"'), 1);

      // More responses add to what the counters already hold.
      for (let i = 0; i < 5; i++) await app.inject({ url: '/a' });
      await app.inject({ url: '/b' });
      text = await metrics.registry.metrics();
      assert.equal(value(text, 'berth_http_requests_total', 'route="/a",method="GET",status="200"'), 12);
      assert.equal(value(text, 'berth_http_requests_total', 'route="/a",method="POST",status="201"'), 3);
      assert.equal(value(text, 'berth_http_requests_total', 'route="/b",method="GET",status="404"'), 2);
      // The JSON form (what the cluster aggregator asks workers for) folds pending counts too.
      for (let i = 0; i < 2; i++) await app.inject({ url: '/b' });
      const json = await metrics.registry.getMetricsAsJSON();
      const requests = json.find((m) => m.name === 'berth_http_requests_total')!;
      const b404 = requests.values.find((v) => v.labels.route === '/b' && v.labels.status === '404');
      assert.equal(b404?.value, 4);
    } finally {
      await app.close();
    }
  });
});
