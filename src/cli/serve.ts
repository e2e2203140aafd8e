import cluster from 'node:cluster';
import { pino } from 'pino';
import { bootstrap, createApp } from '../app.js';
import type { Config } from '../config/schema.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth serve`: runs until SIGTERM/SIGINT, then drains in-flight requests and exits. With
 * `workers > 1` this process supervises that many workers sharing the listener (node:cluster);
 * each is a stateless node over the shared stores, as in a scale-out deployment.
 */
export async function serveCommand(flags: CommonFlags): Promise<void> {
  const config = await configFromFlags(flags);
  if (config.workers > 1 && cluster.isPrimary) return supervise(config);
  await serveOne(config);
}

async function serveOne(config: Config): Promise<void> {
  const app = await createApp(config);
  const sep = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(sep + 1));
  await app.server.listen({ host, port });
  app.logger.info({ dataDir: config.dataDir }, `berth listening on ${config.listen}`);
  const stop = (signal: string) => {
    app.logger.info({ signal }, 'shutting down: letting in-flight requests finish');
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** The primary: bootstraps once, forks the workers, restarts one that dies, drains all on a signal. */
async function supervise(config: Config): Promise<void> {
  const logger = pino({ level: config.log.level });
  await bootstrap(config, logger);
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.workers; i++) fork();
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
}
