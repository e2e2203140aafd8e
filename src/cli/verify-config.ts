import { verifyBackends } from '../app/verify-backends.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';

/**
 * `berth verify-config --config FILE`: exit 0 and print the effective config, or exit 1 naming
 * every bad field. With external stores configured (S3, PostgreSQL) it also connects to each and
 * exits 1 when one cannot be used, saying why.
 */
export async function verifyConfigCommand(flags: { config: string }): Promise<void> {
  let config;
  try {
    config = await loadConfig({ file: flags.config });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${flags.config}: invalid\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${flags.config}: valid\n${JSON.stringify(redactConfig(config), null, 2)}\n`);
  for (const check of await verifyBackends(config)) {
    if (check.ok) {
      process.stdout.write(`${check.name}: ok (${check.detail})\n`);
    } else {
      process.stderr.write(`${check.name}: FAILED: ${check.detail}\n`);
      process.exitCode = 1;
    }
  }
}
