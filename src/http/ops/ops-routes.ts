import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

export interface OpsDeps {
  metrics: Metrics;
  /** Resolves when the backends answer; throws otherwise. */
  ready: () => Promise<void>;
  /** True once shutdown has begun: /readyz then fails so load balancers drain this node. */
  draining: () => boolean;
}

/** `/healthz` (the process is up), `/readyz` (backends answer, not draining), `/metrics`. */
export async function opsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.draining()) return reply.code(503).send({ status: 'draining' });
    try {
      await deps.ready();
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', reason: (err as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
