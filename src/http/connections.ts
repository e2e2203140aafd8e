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
  const done = (socket: Socket) => {
    const n = (inFlight.get(socket) ?? 1) - 1;
    if (inFlight.has(socket)) inFlight.set(socket, n);
  };
  app.addHook('onRequest', async (req) => {
    const s = req.raw.socket;
    if (inFlight.has(s)) inFlight.set(s, inFlight.get(s)! + 1);
  });
  app.addHook('onSend', async (req, reply) => {
    if (draining && inFlight.get(req.raw.socket) === 1) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req) => done(req.raw.socket));
  app.addHook('onRequestAbort', async (req) => done(req.raw.socket));
  app.addHook('preClose', async () => {
    draining = true;
    for (const [socket, n] of inFlight) if (n === 0) socket.destroy();
  });
}
