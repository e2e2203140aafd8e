import { join, resolve } from 'node:path';
import { createAccount, setRootPassword } from '../app.js';
import { writeCredentialsFile } from '../config/credentials-file.js';
import { type CommonFlags, configFromFlags } from './flags.js';

/**
 * `berth account create --account-id ID`: adds an account with a root access key and writes that
 * key to `<data-dir>/credentials-<ID>` (mode 0600), the same format as the default account's.
 */
export async function accountCreateCommand(flags: CommonFlags & { accountId: string; alias?: string }): Promise<void> {
  if (!/^\d{12}$/.test(flags.accountId)) throw new Error('--account-id must be 12 digits');
  const config = await configFromFlags(flags);
  const root = await createAccount(config, flags.accountId, process.env, flags.alias ? { alias: flags.alias } : {});
  if (root.preset) {
    // The default account's key preset through BERTH_ROOT_*: its secret is the operator's, never written here.
    process.stdout.write(`account ${flags.accountId}: root access key ${root.accessKeyId} preset by BERTH_ROOT_ACCESS_KEY_ID; no credentials file written\n`);
    return;
  }
  const file = join(resolve(config.dataDir), `credentials-${flags.accountId}`);
  await writeCredentialsFile(file, root, config.region);
  process.stdout.write(`account ${flags.accountId}: root access key ${root.accessKeyId} ${root.created ? 'created' : 'exists'}; credentials in ${file}; public registry alias ${root.alias}\n`);
}

/**
 * `berth account root-password [--account-id ID]`: sets the console password of the account root,
 * read from standard input (first line), so it never appears in a process list or shell history.
 */
export async function rootPasswordCommand(flags: CommonFlags & { accountId?: string }): Promise<void> {
  const config = await configFromFlags(flags);
  const accountId = flags.accountId ?? config.accountId;
  if (!/^\d{12}$/.test(accountId)) throw new Error('--account-id must be 12 digits');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  await setRootPassword(config, accountId, password);
  process.stdout.write(`console password of the root of account ${accountId} set\n`);
}
