import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface CommonFlags {
  config?: string;
  dataDir?: string;
  listen?: string;
  workers?: string;
}

/** Config from defaults < file < env < these flags. */
export function configFromFlags(flags: CommonFlags): Promise<Config> {
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    flags: {
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      ...(flags.listen ? { listen: flags.listen } : {}),
      ...(flags.workers ? { workers: Number(flags.workers) } : {}),
    },
  });
}
