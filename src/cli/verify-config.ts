import { ConfigError, loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';

/** `berth verify-config --config FILE`: exit 0 and print the effective config, or exit 1 naming every bad field. */
export async function verifyConfigCommand(flags: { config: string }): Promise<void> {
  try {
    const config = await loadConfig({ file: flags.config });
    process.stdout.write(`${flags.config}: valid\n${JSON.stringify(redactConfig(config), null, 2)}\n`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${flags.config}: invalid\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}
