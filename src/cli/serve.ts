import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { workerCount } from '../config/load.js';
import { createLogger, prettyLogs } from '../config/logger.js';
import type { Config } from '../config/schema.js';
import { bannerLines, startInfo } from './banner.js';
import { codeCacheReady, writeCodeCacheNow } from './code-cache-hook.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth serve`: runs until SIGTERM/SIGINT, then drains in-flight requests and exits. With more
 * than one worker (default: one per CPU) this process supervises that many workers sharing the
 * listener (node:cluster); each is a stateless node over the shared stores, as in a scale-out
 * deployment. SIGHUP re-reads the TLS certificate and key.
 */
export async function serveCommand(flags: CommonFlags): Promise<void> {
  const config = await configFromFlags(flags);
  const workers = workerCount(config);
  if (cluster.isWorker) return void (await serveOne(config));
  const early = takePreforkedWorker();
  if (workers > 1) return supervise(config, workers, early);
  // Not pre-forked when the count could be 1 (bin/prefork.js); should it be anyway, it goes.
  early?.worker.kill();
  const app = await serveOne(config);
  announce(config, app.logger, { workers: 1, firstStart: app.rootCredentials.created });
}

async function serveOne(config: Config) {
  // Loaded here, not at the top: a supervisor only forks, so it never initialises the server code.
  const { createApp } = await import('../app.js');
  const app = await createApp(config);
  const sep = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(sep + 1));
  await app.server.listen({ host, port });
  if (cluster.isWorker) process.send?.({ berth: 'listening', firstStart: app.rootCredentials.created } satisfies ListeningMessage);
  codeCacheReady();
  app.logger.info({ dataDir: config.dataDir, tls: config.tls.certFile !== undefined }, `berth listening on ${config.listen}`);
  const stop = (signal: string) => {
    app.logger.info({ signal }, 'shutting down: letting in-flight requests finish');
    writeCodeCacheNow();
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (!config.tls.certFile) return app.logger.info('SIGHUP: no TLS configured, nothing to reload');
    app.reloadTls().then(
      () => app.logger.info({ certFile: config.tls.certFile }, 'SIGHUP: TLS certificate reloaded'),
      (err: unknown) => app.logger.error({ reason: (err as Error).message }, 'SIGHUP: TLS reload failed; still serving the previous certificate'),
    );
  });
  return app;
}

/** Prints where berth is and what to try next: a banner on a terminal, one structured line otherwise. */
function announce(config: Config, logger: Logger, opts: { workers: number; firstStart: boolean }): void {
  const credentialsExist = existsSync(join(resolve(config.dataDir), 'credentials'));
  const info = startInfo(config, { ...opts, credentialsExist });
  if (prettyLogs(config)) process.stdout.write(`\n${bannerLines(info).join('\n')}\n`);
  else logger.info(info, `berth ready at ${info.url}`);
}

/** The first worker bin/prefork.js forked before the bundle loaded, with what it sent or did since. */
interface PreforkedWorker {
  readonly worker: Worker;
  readonly messages: unknown[];
  readonly exit: { code: number | null; signal: string | null } | undefined;
  /** Stops recording (the supervisor's cluster handlers take over). */
  release(): void;
}

/** The pre-forked first worker, handed over once. */
function takePreforkedWorker(): PreforkedWorker | undefined {
  const key = Symbol.for('berth.preforkedWorker');
  const early = (globalThis as Record<symbol, PreforkedWorker | undefined>)[key];
  delete (globalThis as Record<symbol, unknown>)[key];
  return early;
}

/** What a worker tells the supervisor once it listens (node:cluster IPC). */
interface ListeningMessage { berth: 'listening'; firstStart: boolean }

const isListeningMessage = (m: unknown): m is ListeningMessage =>
  typeof m === 'object' && m !== null && (m as { berth?: unknown }).berth === 'listening';

/**
 * The primary: forks one worker (or adopts the one bin/prefork.js forked before this process loaded
 * the bundle), and the others once it listens; restarts one that dies, drains all
 * on a signal. The supervisor itself never loads the server code. The first worker alone does the
 * first-start work (master key, root key) as a single server would, so no two workers race to
 * create them; the rest start after it, when everything is in place. Workers starting together
 * would also share the cores (two workers on two cores each take twice as long), and the first
 * answer waits for the first worker. A worker that fails before any listened (a backend that
 * cannot be opened) stops the supervisor with its error instead of being restarted forever.
 */
async function supervise(config: Config, workers: number, early: PreforkedWorker | undefined): Promise<void> {
  const logger = createLogger(config);
  let stopping = false;
  let announced = false;
  const fork = () => cluster.fork();
  if (!early) fork();
  const onMessage = (_worker: Worker, message: unknown) => {
    if (announced || !isListeningMessage(message)) return;
    announced = true;
    if (!stopping) for (let i = 1; i < workers; i++) fork();
    announce(config, logger, { workers, firstStart: message.firstStart });
  };
  const onExit = (worker: Worker, code: number | null, signal: string | null) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (!announced) {
      logger.error({ pid: worker.process.pid, code, signal }, 'the first worker failed to start; stopping');
      process.exit(1);
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  if (early) {
    // What the pre-forked worker said (or did) before these handlers existed; from here on the
    // cluster events carry it.
    early.release();
    for (const m of early.messages) onMessage(early.worker, m);
    if (early.exit) onExit(early.worker, early.exit.code, early.exit.signal);
  }
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    logger.info({ signal }, 'shutting down workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}
