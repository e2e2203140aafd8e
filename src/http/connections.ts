import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * Shutdown that waits only for requests in flight. Node's own `closeIdleConnections()` leaves
 * connections that have not sent a request yet (a client that pre-connects, a slow header): those
 * held SIGTERM for the whole grace period. So every socket's requests in flight are counted, and on
 * close each socket with none is destroyed at once; a socket whose last request finishes during the
 * drain gets `Connection: close` on that response and goes with it.
 */
export function installConnectionDrain(app: FastifyInstance, tls: boolean, requestArrived?: (socket: unknown, connections: number) => void): void {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  const waiters: (() => void)[] = [];
  app.server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => {
      inFlight.delete(socket);
      if (inFlight.size === 0) for (const done of waiters.splice(0)) done();
    });
  });
  // Before fastify's own listener, in the same call (ServerDeps.requestArrived).
  if (requestArrived) app.server.prependListener('request', (req: IncomingMessage) => requestArrived(req.socket, inFlight.size));
  const drained = () => inFlight.size === 0 ? Promise.resolve() : new Promise<void>((done) => { waiters.push(done); });
  trackers.set(app, {
    drained,
    retire: () => {
      draining = true;
      return drained();
    },
    destroyAll: () => { for (const socket of inFlight.keys()) socket.destroy(); },
  });
  const finished = (socket: Socket) => {
    const n = (inFlight.get(socket) ?? 1) - 1;
    if (inFlight.has(socket)) inFlight.set(socket, n);
  };
  // Callback-style hooks: no promise per request (see server.ts).
  app.addHook('onRequest', (req, _reply, done) => {
    const s = req.raw.socket;
    const n = inFlight.get(s);
    if (n !== undefined) inFlight.set(s, n + 1);
    done();
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    if (draining && inFlight.get(req.raw.socket) === 1) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (req, _reply, done) => {
    finished(req.raw.socket);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    finished(req.raw.socket);
    done();
  });
  app.addHook('preClose', async () => {
    draining = true;
    for (const [socket, n] of inFlight) if (n === 0) socket.destroy();
  });
}

interface Tracker { drained(): Promise<void>; retire(): Promise<void>; destroyAll(): void }
const trackers = new WeakMap<FastifyInstance, Tracker>();

/**
 * Resolves once every connection the server was given has closed. `server.close()` waits only for
 * the connections its own listener accepted; the ones a supervisor hands over (src/cli/serve.ts)
 * are emitted as `connection` events, which net.Server does not count, so shutdown waits here too.
 */
export function connectionsDrained(app: FastifyInstance): Promise<void> {
  return trackers.get(app)?.drained() ?? Promise.resolve();
}

/**
 * Lets the connections the server has go without cutting any: each one's next response (or the
 * one in flight) carries `Connection: close`, and an idle one stays until the client sends its
 * next request or the keep-alive timeout ends it — closing idle keep-alive connections at once
 * would race a client that is just sending on one (a PATCH that fails is not retried). Resolves
 * when all are closed. For a supervisor whose workers take over (src/cli/serve.ts); the server
 * must get no new connections meanwhile.
 */
export function retireConnections(app: FastifyInstance): Promise<void> {
  return trackers.get(app)?.retire() ?? Promise.resolve();
}

/** Destroys every connection the server was given (the end of the shutdown grace period). */
export function destroyConnections(app: FastifyInstance): void {
  trackers.get(app)?.destroyAll();
}
