import type { FastifyInstance, FastifyRequest } from 'fastify';
import { levelEnabled } from './lazy-child-logger.js';

/**
 * One structured line per request, written when the response is finished (fastify's own pair of
 * "incoming"/"completed" lines doubles the logging cost on the manifest hot path). Every line a
 * request logs carries its `reqId`, which is also the `x-amzn-RequestId` response header.
 * The query string is left out: later surfaces carry signatures and tokens there.
 * A request the client gives up on gets its line too (`aborted: true`, no status), at info level:
 * a client hanging up is not a server error.
 */
export function installAccessLog(app: FastifyInstance): void {
  // Callback-style hooks (no promise per request), and the line is only built when info is enabled:
  // at `level: error` building it was ~1.5 % of a manifest GET for nothing (issue 12).
  app.addHook('onResponse', (req, reply, done) => {
    if (levelEnabled(req.log, 'info')) req.log.info({ ...line(req), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    if (levelEnabled(req.log, 'info')) req.log.info({ ...line(req), aborted: true }, 'request aborted by the client');
    done();
  });
}

function line(req: FastifyRequest): Record<string, unknown> {
  const q = req.url.indexOf('?');
  return { method: req.method, path: q === -1 ? req.url : req.url.slice(0, q), remote: req.ip };
}

/**
 * True when `err` only says the client went away (reset, closed mid-body, aborted): such errors are
 * logged at info level without a stack trace, and no response is attempted.
 */
export function isClientAbort(err: unknown, req: FastifyRequest): boolean {
  if (req.raw.aborted || req.raw.socket?.destroyed === true) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
