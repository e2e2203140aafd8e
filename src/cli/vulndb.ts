import cliProgress from 'cli-progress';
import { importVulnerabilities } from '../app/scan.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth vulndb import <file|dir>`: loads OSV data (osv.dev `all.zip` exports, OSV JSON files, or
 * a directory of them) into `<data-dir>/vulndb.sqlite`, replacing the previous data atomically.
 * A running server notices within seconds and re-evaluates CONTINUOUS_SCAN images. Shows a
 * progress bar when stderr is a terminal, one summary line otherwise.
 */
export async function vulndbImportCommand(path: string, flags: CommonFlags): Promise<void> {
  const config = await configFromFlags(flags);
  const started = Date.now();
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'importing [{bar}] {percentage}% | {records} records', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  let barStarted = false;
  let records = 0;
  try {
    const count = await importVulnerabilities(config, path, {
      read: (done, total) => {
        if (!bar) return;
        if (!barStarted) {
          bar.start(total, 0, { records });
          barStarted = true;
        }
        bar.update(done, { records });
      },
      written: (n) => {
        records = n;
      },
    });
    bar?.stop();
    process.stdout.write(`imported ${count} vulnerability records from ${path} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    bar?.stop();
    throw err;
  }
}
