import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { bootstrap, createApp } from '../app.js';
import { workerCount } from '../config/load.js';
import { createLogger, prettyLogs } from '../config/logger.js';
import type { Config } from '../config/schema.js';
import { bannerLines, startInfo } from './banner.js';
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
  if (workers > 1) return supervise(config, workers);
  const app = await serveOne(config);
  announce(config, app.logger, { workers: 1, firstStart: app.rootCredentials.created });
}

async function serveOne(config: Config) {
  const app = await createApp(config);
  const sep = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(sep + 1));
  await app.server.listen({ host, port });
  app.logger.info({ dataDir: config.dataDir, tls: config.tls.certFile !== undefined }, `berth listening on ${config.listen}`);
  const stop = (signal: string) => {
    app.logger.info({ signal }, 'shutting down: letting in-flight requests finish');
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

/**
 * The primary: bootstraps a fresh data directory once (master key, root key) so workers never race
 * to create them, forks the workers, restarts one that dies, drains all on a signal. On an existing
 * data directory it forks at once: the workers find everything in place.
 */
async function supervise(config: Config, workers: number): Promise<void> {
  const logger = createLogger(config);
  const dataDir = resolve(config.dataDir);
  const needsBootstrap = config.storage.meta !== 'sqlite' || !existsSync(join(dataDir, 'meta.db'))
    || (!process.env.BERTH_MASTER_KEY && !existsSync(join(dataDir, 'master.key')))
    || process.env.BERTH_ROOT_ACCESS_KEY_ID !== undefined;
  const firstStart = needsBootstrap ? (await bootstrap(config, logger)).created : false;
  let stopping = false;
  let announced = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < workers; i++) fork();
  cluster.on('listening', () => {
    if (announced) return;
    announced = true;
    announce(config, logger, { workers, firstStart });
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });
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
