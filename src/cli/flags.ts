import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface CommonFlags {
  config?: string;
  dataDir?: string;
  listen?: string;
  workers?: string;
  tlsCert?: string;
  tlsKey?: string;
  publicUrl?: string;
  logFormat?: string;
}

/** The `berth serve` flag of each config path it can set (docs/configuration.md lists them). */
export const SERVE_FLAGS: Readonly<Record<string, string>> = {
  listen: '--listen', dataDir: '--data-dir', workers: '--workers', 'tls.certFile': '--tls-cert', 'tls.keyFile': '--tls-key',
  publicUrl: '--public-url', 'log.format': '--log-format',
};

/** Config from defaults < file < env < these flags. */
export function configFromFlags(flags: CommonFlags): Promise<Config> {
  const tls = { ...(flags.tlsCert ? { certFile: flags.tlsCert } : {}), ...(flags.tlsKey ? { keyFile: flags.tlsKey } : {}) };
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    flags: {
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      ...(flags.listen ? { listen: flags.listen } : {}),
      ...(flags.workers ? { workers: flags.workers === 'auto' ? 'auto' : Number(flags.workers) } : {}),
      ...(Object.keys(tls).length ? { tls } : {}),
      ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
      ...(flags.logFormat ? { log: { format: flags.logFormat } } : {}),
    },
  });
}
