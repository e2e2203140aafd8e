import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { EventBus } from '../core/events.js';
import { installAccessLog } from './access-log.js';
import { installConnectionDrain } from './connections.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { lazySchemaCompilers } from './lazy-compilers.js';
import type { Metrics } from './metrics.js';
import type { OciDeps } from './oci/context.js';
import { ociPlugin } from './oci/plugin.js';
import { awsPlugin, type AwsDeps } from './aws/plugin.js';
import { opsRoutes, type OpsDeps } from './ops/ops-routes.js';

export interface ServerDeps {
  logger: FastifyBaseLogger;
  metrics: Metrics;
  events: EventBus;
  oci: OciDeps;
  /** The AWS APIs on `POST /` (absent when the registry runs without IAM, in tests). */
  aws: AwsDeps | undefined;
  ops: Omit<OpsDeps, 'metrics'>;
  trustProxy: boolean;
  /** Serve HTTPS with this certificate and key (PEM); plain HTTP when absent. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  timeouts: { headersSeconds: number; idleSeconds: number; keepAliveSeconds: number };
  /**
   * Told of each request as it arrives (synchronously from the server's `request` event, before any
   * handler): its socket and the number of client connections the server holds.
   */
  requestArrived?: (socket: unknown, connections: number) => void;
  /** Further surfaces (the token server, the console), each registering its own encapsulated plugin. */
  surfaces?: ((app: FastifyInstance) => Promise<void>)[];
}

/** Builds the one listener with every surface registered as its own encapsulated plugin. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    loggerInstance: deps.logger,
    // Timeouts (docs/configuration.md): a socket that moves no bytes for idleSeconds is closed (bounds
    // slow-body uploads without capping how long a large upload may take, so no whole-request
    // timeout); idle keep-alive connections close after keepAliveSeconds.
    connectionTimeout: deps.timeouts.idleSeconds * 1000,
    keepAliveTimeout: deps.timeouts.keepAliveSeconds * 1000,
    requestTimeout: 0,
    genReqId: () => randomUUID(),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    childLoggerFactory: lazyChildLogger,
    trustProxy: deps.trustProxy,
    // Idle keep-alive connections are closed on shutdown; in-flight requests finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    exposeHeadRoutes: false,
    // Blob bodies are streamed, not buffered: the limit that matters is per surface.
    bodyLimit: 4 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1024 },
    schemaController: lazySchemaCompilers(),
  });
  app.server.headersTimeout = deps.timeouts.headersSeconds * 1000;
  // Hooks on every request are callback-style, not async: an async hook costs a promise and a
  // microtask turn per request, which is measurable on the manifest GET hot path (issue 12).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-amzn-requestid', req.id);
    done();
  });
  // A response sent before the request body was read (an early 413 or 401 on a streamed upload):
  // close the connection rather than let Node read and discard an unbounded rest of the body.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (!req.raw.complete) reply.header('connection', 'close');
    done(null, payload);
  });
  installAccessLog(app);
  installConnectionDrain(app, deps.tls !== undefined, deps.requestArrived);
  deps.metrics.install(app, deps.events);
  await app.register(opsRoutes, { ...deps.ops, metrics: deps.metrics });
  await app.register(ociPlugin, deps.oci);
  if (deps.aws) await app.register(awsPlugin, deps.aws);
  for (const surface of deps.surfaces ?? []) await surface(app);
  return app;
}
