import type { FastifyInstance } from 'fastify';

/**
 * One structured line per request, written when the response is finished (fastify's own pair of
 * "incoming"/"completed" lines doubles the logging cost on the manifest hot path). Every line a
 * request logs carries its `reqId`, which is also the `x-amzn-RequestId` response header.
 * The query string is left out: later surfaces carry signatures and tokens there.
 */
export function installAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    const q = req.url.indexOf('?');
    req.log.info({
      method: req.method,
      path: q === -1 ? req.url : req.url.slice(0, q),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      remote: req.ip,
    }, 'request');
  });
}
