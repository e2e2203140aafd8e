import { createApp } from '../app.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/** `berth serve`: runs until SIGTERM/SIGINT, then drains in-flight requests and exits. */
export async function serveCommand(flags: CommonFlags): Promise<void> {
  const config = await configFromFlags(flags);
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
