/**
 * buildServer hands fastify schema compilers that load ajv / fast-json-stringify on first use (start-up
 * time, issue 12). A route that declares a schema must behave exactly as with fastify's defaults:
 * bodies validated (400 with ajv's message), responses serialized by the response schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { lazySchemaCompilers } from '../../src/http/lazy-compilers.js';

describe('lazy schema compilers', () => {
  it('validate bodies and serialize responses as fastify\'s defaults do', async () => {
    const app = Fastify({ schemaController: lazySchemaCompilers() });
    app.post('/echo', {
      schema: {
        body: { type: 'object', required: ['n'], properties: { n: { type: 'integer', minimum: 1 } } },
        response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
      },
    }, async (req) => ({ n: (req.body as { n: number }).n, secret: 'dropped by the response schema' }));
    try {
      const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 0 } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ message: string }>().message, /body\/n must be >= 1/);
      const missing = await app.inject({ method: 'POST', url: '/echo', payload: {} });
      assert.equal(missing.statusCode, 400);
      assert.match(missing.json<{ message: string }>().message, /must have required property 'n'/);
      const ok = await app.inject({ method: 'POST', url: '/echo', payload: { n: 3 } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { n: 3 });
    } finally {
      await app.close();
    }
  });
});
