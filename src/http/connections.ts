import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Shutdown that waits only for requests in flight. Node's own `closeIdleConnections()` leaves
 * connections that have not sent a request yet (a client that pre-connects, a slow header): those
 * held SIGTERM for the whole grace period. So every socket's requests in flight are counted, and on
 * close each socket with none is destroyed at once; a socket whose last request finishes during the
 * drain gets `Connection: close` on that response and goes with it.
 */
export function installConnectionDrain(app: FastifyInstance, tls: boolean): void {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  app.server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
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
