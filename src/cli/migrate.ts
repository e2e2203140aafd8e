import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { encryptBlobs, keyService, masterKeyring, openBackends, openLifecycleBackends } from '../app.js';
import { migrateRegistry, type MigrationProgress } from '../app/migrate.js';
import { loadConfig } from '../config/load.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth migrate --to target.yaml`: copies this configuration's registry into the stores the
 * target file names (e.g. the embedded data directory into PostgreSQL + S3). The target is read
 * from the file alone (not the environment, which describes the source). Resumable: run it again.
 */
export async function migrateCommand(flags: CommonFlags & { to: string; accountId?: string[] }): Promise<void> {
  const source = await configFromFlags(flags);
  const target = await loadConfig({ file: flags.to, env: {} });
  if (target.storage.meta === 'memory' || target.storage.blob === 'memory') throw new Error('the target configuration must name persistent stores (not memory)');
  if (source.storage.meta === 'sqlite' && target.storage.meta === 'sqlite' && resolve(source.dataDir) === resolve(target.dataDir)) {
    throw new Error(`the target's dataDir is the source's (${resolve(source.dataDir)}): name another one in ${flags.to}`);
  }
  const accounts = [...new Set([source.accountId, ...(flags.accountId ?? [])])];
  const from = await openBackends(source);
  try {
    const to = await openBackends(target);
    try {
      // Blobs are encrypted at rest: read them decrypted (so they are verified by digest) and
      // store them encrypted on the target under the same master key, which the target's nodes
      // must use (identity secrets are copied sealed by it as well).
      const keyring = await masterKeyring(source);
      const plain = {
        from: encryptBlobs(from.blobs, from.keys, keyring, keyService(from.keys, keyring, source), source.storage.redirect),
        // A target with storage.redirect stores AES256 repositories' blobs as plain objects (its
        // object store's encryption), so the migrated blobs are redirected like new pushes.
        to: encryptBlobs(to.blobs, to.keys, keyring, keyService(to.keys, keyring, target), target.storage.redirect),
      };
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: '{phase} [{bar}] {value}/{total} {detail}', hideCursor: true }, cliProgress.Presets.shades_classic)
        : undefined;
      const progress: MigrationProgress = {
        phase(name, total) {
          if (bar) {
            bar.stop();
            bar.start(total, 0, { phase: name, detail: '' });
          } else {
            process.stderr.write(`${name}: ${total}\n`);
          }
        },
        tick(detail) {
          bar?.increment(1, { detail: detail ?? '' });
        },
      };
      const lifecycle = { from: await openLifecycleBackends(source, from.meta), to: await openLifecycleBackends(target, to.meta) };
      let report;
      try {
        report = await migrateRegistry({ ...from, blobs: plain.from, lifecycle: lifecycle.from.lifecycleStore }, { ...to, blobs: plain.to, lifecycle: lifecycle.to.lifecycleStore },
          accounts, progress, new AbortController().signal);
      } finally {
        for (const side of [lifecycle.from, lifecycle.to]) {
          await side.gcStore?.close();
          await side.lifecycleStore.close();
        }
      }
      bar?.stop();
      process.stdout.write([
        `repositories: ${report.repositories.copied} copied, ${report.repositories.skipped} already there`,
        `manifests: ${report.manifests.copied} copied, ${report.manifests.skipped} already there; tags set: ${report.tags}`,
        `blobs: ${report.blobs.copied} copied (${report.blobs.bytes} bytes, verified by digest), ${report.blobs.skipped} already there`,
        `users: ${report.users} copied; access keys: ${report.accessKeys} copied`,
        `kms keys: ${report.kmsKeys} copied; aliases: ${report.kmsAliases} copied`,
        `lifecycle policies: ${report.lifecyclePolicies} copied; archive states: ${report.archiveStates} copied`,
        'done: run it again to copy what changed since; start the nodes with the same master key (BERTH_MASTER_KEY)',
      ].join('\n') + '\n');
    } finally {
      await to.meta.close();
      await to.identity.close();
      await to.keys.close();
      await to.blobs.close();
    }
  } finally {
    await from.meta.close();
    await from.identity.close();
    await from.keys.close();
    await from.blobs.close();
  }
}
