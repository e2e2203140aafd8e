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
