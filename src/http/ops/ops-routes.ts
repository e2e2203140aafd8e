import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

export interface OpsDeps {
  metrics: Metrics;
  /**
   * The stores `/readyz` pings, by name (meta, identity, blob): each resolves when its store
   * answers and throws otherwise; each gets {@link READY_TIMEOUT_MS}, all run at once.
   */
  ready: Record<string, (signal: AbortSignal) => Promise<unknown>>;
  /** True once shutdown has begun: /readyz then fails so load balancers drain this node. */
  draining: () => boolean;
}

/** How long a store may take to answer the readiness ping before the node is reported unready. */
export const READY_TIMEOUT_MS = 2000;

/** Pings every store at once; resolves each one's outcome ('ok' or why not). */
async function pingStores(stores: OpsDeps['ready']): Promise<Record<string, string>> {
  const entries = await Promise.all(Object.entries(stores).map(async ([name, ping]): Promise<[string, string]> => {
    const signal = AbortSignal.timeout(READY_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    // A store that ignores its signal must still not hold the probe: the timeout races it.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([ping(signal), timeout]);
      return [name, 'ok'];
    } catch (err) {
      return [name, err instanceof Error ? err.message : String(err)];
    } finally {
      clearTimeout(timer);
    }
  }));
  return Object.fromEntries(entries);
}

/**
 * `/healthz` (the process is up), `/readyz` (every store answers and the node is not draining:
 * 200 `{status:'ready', stores}`, else 503 naming the failed stores), `/metrics`.
 */
export async function opsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.draining()) return reply.code(503).send({ status: 'draining' });
    const stores = await pingStores(deps.ready);
    const failed = Object.keys(stores).filter((name) => stores[name] !== 'ok');
    if (failed.length === 0) return { status: 'ready', stores };
    return reply.code(503).send({ status: 'unavailable', reason: `store not answering: ${failed.join(', ')}`, failed, stores });
  });
  app.get('/metrics', async (_req, reply) => {
    deps.metrics.collectDefaults();
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
