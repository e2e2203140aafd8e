import { type ChildProcess, fork as forkProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { App } from '../app.js';
import { workerCount } from '../config/load.js';
import { prettyLogs } from '../config/logger.js';
import type { Config } from '../config/schema.js';
import { bannerLines, startInfo } from './banner.js';
import { codeCacheReady, writeCodeCacheNow } from './code-cache-hook.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth serve`: runs until SIGTERM/SIGINT, then drains in-flight requests and exits. With more
 * than one worker (default: one per CPU) this process supervises that many worker processes and
 * hands each accepted connection to one of them in turn; each is a stateless node over the shared
 * stores, as in a scale-out deployment. SIGHUP re-reads the TLS certificate and key.
 */
export async function serveCommand(flags: CommonFlags): Promise<void> {
  const config = await configFromFlags(flags);
  if (isWorker()) return void (await serveWorker(config));
  const workers = workerCount(config);
  const app = await openApp(config);
  if (workers > 1) return supervise(config, workers, app);
  await app.server.listen(listenAddress(config));
  onSignals({
    stop: (signal) => stopApp(app, { signal }),
    reload: () => reloadTls(config, app),
  });
  listening(config, app, 1);
}

/** Once the listener is up (single server or supervisor): the code cache, the log line, the banner. */
function listening(config: Config, app: App, workers: number): void {
  codeCacheReady(app.rootCredentials.created ? 'first-start' : 'start');
  app.logger.info({ dataDir: config.dataDir, tls: config.tls.certFile !== undefined, workers }, `berth listening on ${config.listen}`);
  announce(config, app.logger, { workers, firstStart: app.rootCredentials.created });
}

async function openApp(config: Config): Promise<App> {
  // Loaded here, not at the top, so other commands never initialise the server code.
  const { createApp } = await import('../app.js');
  return createApp(config);
}

function listenAddress(config: Config): { host: string; port: number } {
  const sep = config.listen.lastIndexOf(':');
  return { host: config.listen.slice(0, sep).replace(/^\[|\]$/g, ''), port: Number(config.listen.slice(sep + 1)) };
}

function onSignals(handlers: { stop(signal: NodeJS.Signals): void; reload(): void }): void {
  process.once('SIGTERM', () => handlers.stop('SIGTERM'));
  process.once('SIGINT', () => handlers.stop('SIGINT'));
  process.on('SIGHUP', () => handlers.reload());
}

const stopped = new WeakSet<App>();

function stopApp(app: App, why: { signal: string } | { reason: string }): void {
  if (stopped.has(app)) return;
  stopped.add(app);
  app.logger.info(why, 'shutting down: letting in-flight requests finish');
  writeCodeCacheNow();
  app.close().then(() => process.exit(0), (err: unknown) => {
    app.logger.error({ err }, 'shutdown failed');
    process.exit(1);
  });
}

function reloadTls(config: Config, app: App): void {
  if (!config.tls.certFile) return void app.logger.info('SIGHUP: no TLS configured, nothing to reload');
  app.reloadTls().then(
    () => app.logger.info({ certFile: config.tls.certFile }, 'SIGHUP: TLS certificate reloaded'),
    (err: unknown) => app.logger.error({ reason: (err as Error).message }, 'SIGHUP: TLS reload failed; still serving the previous certificate'),
  );
}

/** Prints where berth is and what to try next: a banner on a terminal, one structured line otherwise. */
function announce(config: Config, logger: Logger, opts: { workers: number; firstStart: boolean }): void {
  const credentialsExist = existsSync(join(resolve(config.dataDir), 'credentials'));
  const info = startInfo(config, { ...opts, credentialsExist });
  if (prettyLogs(config)) process.stdout.write(`\n${bannerLines(info).join('\n')}\n`);
  else logger.info(info, `berth ready at ${info.url}`);
}

/**
 * Set by the supervisor on the workers it forks (its pid): a worker is such a child with an IPC
 * channel to that very parent, so a stray variable in someone's shell changes nothing.
 */
const WORKER_ENV = 'BERTH_WORKER_OF';

const isWorker = (): boolean => process.send !== undefined && process.env[WORKER_ENV] === String(process.ppid);

/** Supervisor → worker: take this connection (the socket travels as the message's handle). */
interface ConnectionMessage { berth: 'connection' }
/** Worker → supervisor: ready for connections. */
interface ReadyMessage { berth: 'ready' }

const isMessage = <T extends { berth: string }>(m: unknown, kind: T['berth']): m is T =>
  typeof m === 'object' && m !== null && (m as { berth?: unknown }).berth === kind;

/**
 * Readies the app's HTTP(S) server to be given connections accepted elsewhere (by the supervisor's
 * listener) instead of listening itself. It emits `listening` once: that is when Node arms the
 * connection list behind `headersTimeout` and `closeAllConnections()`.
 */
async function serveWithoutListening(app: App): Promise<HttpServer> {
  await app.server.ready();
  const http = app.server.server as HttpServer;
  http.emit('listening');
  return http;
}

/** Gives `server` (see serveWithoutListening) a connection, as its own listener would have. */
function acceptConnection(server: HttpServer, socket: Socket): void {
  server.emit('connection', socket);
  socket.resume();
}

/** A worker: the whole server, fed the connections the supervisor accepts. */
async function serveWorker(config: Config): Promise<void> {
  const app = await openApp(config);
  const http = await serveWithoutListening(app);
  process.on('message', (message: unknown, socket: unknown) => {
    if (isMessage<ConnectionMessage>(message, 'connection') && socket) acceptConnection(http, socket as Socket);
  });
  process.send?.({ berth: 'ready' } satisfies ReadyMessage);
  codeCacheReady('start'); // a worker's data directory exists: the supervisor made it
  app.logger.info({ dataDir: config.dataDir }, 'worker ready');
  onSignals({
    stop: (signal) => stopApp(app, { signal }),
    reload: () => reloadTls(config, app),
  });
  // The supervisor is gone (killed, crashed): no connection can come any more, so finish and exit
  // rather than linger.
  process.once('disconnect', () => stopApp(app, { reason: 'the supervisor is gone' }));
}

/**
 * The supervisor. It opens the server itself (doing the first-start work — master key, root key —
 * before any worker exists, so none race to create them), listens, and answers the first
 * connections on its own while its workers start: a start costs one Node.js boot, not a
 * supervisor's followed by a worker's. Each worker that reports ready then gets the new
 * connections in turn (as node:cluster's round-robin does: the supervisor accepts, the worker
 * serves); from the first one on, the supervisor's own connections are let go one by one (each
 * next response says `Connection: close`, so its client reconnects, to a worker; none is cut) and
 * its server closes after the last. A worker that dies is replaced; connections that arrive while no worker
 * is ready wait for one. A worker that fails before any became ready stops everything with 1
 * instead of being restarted forever.
 */
async function supervise(config: Config, workers: number, app: App): Promise<void> {
  const logger = app.logger;
  /** The supervisor's own server while it takes new connections; then, until its last one ends, `retiring`. */
  let own: App | undefined = app;
  let retiring: App | undefined;
  let ownClosed: Promise<void> = Promise.resolve();
  const ready: ChildProcess[] = [];
  const children = new Set<ChildProcess>();
  const waiting: Socket[] = [];
  let turn = 0;
  let anyReady = false;
  let stopping = false;

  const handOver = (socket: Socket, tries = 0): void => {
    if (ready.length === 0 || tries >= ready.length) return hold(socket);
    const worker = ready[turn++ % ready.length]!;
    worker.send({ berth: 'connection' } satisfies ConnectionMessage, socket, (err) => {
      // The worker went away between the choice and the send: the next one takes it.
      if (err && !socket.destroyed) handOver(socket, tries + 1);
    });
  };
  const hold = (socket: Socket): void => {
    if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
    waiting.push(socket);
  };
  const ownHttp = await serveWithoutListening(app);
  const dispatch = (socket: Socket): void => {
    if (stopping) return void socket.destroy();
    if (ready.length > 0) return handOver(socket);
    if (own) return acceptConnection(ownHttp, socket);
    hold(socket);
  };

  const listener: Server = createServer({ pauseOnConnect: true, noDelay: true }, dispatch);
  await new Promise<void>((done, fail) => {
    listener.once('error', fail);
    listener.listen(listenAddress(config), () => {
      listener.off('error', fail);
      done();
    });
  });
  listener.on('error', (err) => logger.error({ err }, 'listener error'));
  listening(config, app, workers);

  const fork = () => {
    const child = forkProcess(process.argv[1]!, process.argv.slice(2), {
      env: { ...process.env, [WORKER_ENV]: String(process.pid) },
      execArgv: process.execArgv,
      stdio: 'inherit',
    });
    children.add(child);
    let wasReady = false;
    child.on('message', (message: unknown) => {
      if (!isMessage<ReadyMessage>(message, 'ready') || stopping) return;
      wasReady = true;
      failedStarts = 0;
      ready.push(child);
      anyReady = true;
      retire();
      for (const socket of waiting.splice(0)) if (!socket.destroyed) handOver(socket);
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      const at = ready.indexOf(child);
      if (at !== -1) ready.splice(at, 1);
      if (stopping) return exitWhenDone();
      if (!anyReady) {
        logger.error({ workerPid: child.pid, code, signal }, 'a worker failed to start; stopping');
        exitCode = 1;
        return stop();
      }
      // One that dies before it is ready (a disk that went away, memory) is retried ever more slowly.
      const delayMs = wasReady ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** failedStarts++);
      logger.error({ workerPid: child.pid, code, signal, restartInMs: delayMs }, 'worker died; starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, delayMs);
    });
  };
  let failedStarts = 0;
  const retire = () => {
    const old = own;
    if (!old) return;
    own = undefined;
    retiring = old;
    writeCodeCacheNow();
    logger.info('a worker is ready: new connections go to the workers');
    ownClosed = old.retire('the supervisor\'s own server closed: its last connection ended')
      .catch((err: unknown) => logger.error({ err }, 'closing the supervisor\'s own server failed'));
  };
  let exitCode = 0;
  const exitWhenDone = () => {
    if (children.size === 0) void ownClosed.then(() => process.exit(exitCode));
  };
  const stop = (signal?: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: letting in-flight requests finish');
    listener.close();
    for (const socket of waiting.splice(0)) socket.destroy();
    for (const child of children) child.kill('SIGTERM');
    const closing = own ?? retiring;
    own = retiring = undefined;
    if (closing) {
      writeCodeCacheNow();
      ownClosed = closing.close();
    }
    exitWhenDone();
  };
  onSignals({
    stop,
    reload: () => {
      if (own) reloadTls(config, own);
      for (const child of children) child.kill('SIGHUP');
    },
  });
  // Workers boot on the same cores the supervisor answers on: a client already waiting (a test, a
  // CI job, a health check polling for the start) is answered first. Forking starts once the first
  // response is out, or after FORK_DELAY_MS with no request.
  let forked = false;
  const forkAll = () => {
    if (forked || stopping) return;
    forked = true;
    for (let i = 0; i < workers; i++) fork();
  };
  const timer = setTimeout(forkAll, FORK_DELAY_MS);
  ownHttp.once('request', (_req, res) => res.once('close', () => {
    clearTimeout(timer);
    setImmediate(forkAll);
  }));
}

/** The longest wait before replacing a worker that keeps dying before it is ready. */
const MAX_RESTART_DELAY_MS = 30_000;

/** How long a supervisor nobody has asked anything waits before forking its workers. */
const FORK_DELAY_MS = 50;
