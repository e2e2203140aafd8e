import { Command, Option } from 'commander';

/**
 * Each command's module is loaded when that command runs: the bundle then initialises only what the
 * command needs (a `serve` supervisor never loads the server, `--help` loads nothing).
 */
const lazy = <A extends unknown[]>(load: () => Promise<(...args: A) => Promise<void>>) =>
  async (...args: A): Promise<void> => (await load())(...args);
const serveCommand = lazy(async () => (await import('./serve.js')).serveCommand);
const verifyConfigCommand = lazy(async () => (await import('./verify-config.js')).verifyConfigCommand);
const migrateCommand = lazy(async () => (await import('./migrate.js')).migrateCommand);
const fsckCommand = lazy(async () => (await import('./fsck.js')).fsckCommand);
const accountCreateCommand = lazy(async () => (await import('./account.js')).accountCreateCommand);
const rootPasswordCommand = lazy(async () => (await import('./account.js')).rootPasswordCommand);
const encryptExistingCommand = lazy(async () => (await import('./encrypt-existing.js')).encryptExistingCommand);
const gcCommand = lazy(async () => (await import('./gc.js')).gcCommand);
const lifecycleRunCommand = lazy(async () => (await import('./lifecycle.js')).lifecycleRunCommand);
const vulndbImportCommand = lazy(async () => (await import('./vulndb.js')).vulndbImportCommand);

const program = new Command()
  .name('berth')
  .description('Self-hosted, Amazon-ECR-compatible container registry')
  .showHelpAfterError();

const configOption = () => new Option('-c, --config <file>', 'YAML configuration file');
const dataDirOption = () => new Option('-d, --data-dir <dir>', 'data directory (env BERTH_DATA_DIR; default ./data)');

program.command('serve')
  .description('start the registry')
  .addOption(configOption())
  .addOption(dataDirOption())
  .option('-l, --listen <host:port>', 'address to listen on (env BERTH_LISTEN; default 127.0.0.1:5000)')
  .option('-w, --workers <n>', 'processes serving the listener, or auto = one per CPU (env BERTH_WORKERS; default auto)')
  .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain (env BERTH_TLS_CERT); SIGHUP reloads it')
  .option('--tls-key <file>', 'PEM private key of --tls-cert (env BERTH_TLS_KEY)')
  .option('--public-url <url>', 'scheme://host[:port] clients reach berth at (env BERTH_PUBLIC_URL)')
  .option('--log-format <format>', 'auto | json | pretty (env BERTH_LOG_FORMAT; default auto: pretty on a terminal)')
  .action(serveCommand);

program.command('cert')
  .description('TLS certificates for a quick private set-up')
  .command('create')
  .description('write DIR/ca.crt, DIR/server.crt and DIR/server.key: a new CA and a server certificate for the given names')
  .requiredOption('--host <name...>', 'DNS names or IP addresses the server certificate is for (repeatable)')
  .requiredOption('--out <dir>', 'directory to write the files to (created; existing files are not overwritten)')
  .option('--days <n>', 'validity of both certificates in days', '825')
  .action(async (opts: { host: string[]; out: string; days: string }) => {
    const { certCreateCommand } = await import('./cert.js');
    await certCreateCommand(opts);
  });

program.command('verify-config')
  .description('validate a configuration file and name every bad field')
  .addOption(configOption().makeOptionMandatory())
  .action(verifyConfigCommand);

program.command('fsck')
  .description('check that every manifest\'s blobs exist and every stored blob matches its digest; report orphans')
  .addOption(configOption())
  .addOption(dataDirOption())
  .option('--json', 'print the report as JSON')
  .action(fsckCommand);

program.command('migrate')
  .description('copy this registry (e.g. a single-node data directory) into the stores another configuration names; resumable, verified by digest')
  .requiredOption('--to <file>', 'configuration file of the target (e.g. storage.meta: postgres, storage.blob: s3)')
  .option('--account-id <id...>', 'accounts to copy besides the default one')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(migrateCommand);

program.command('encrypt-existing')
  .description('encrypt blobs stored before encryption at rest (safe while serving; resumable)')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(encryptExistingCommand);

const account = program.command('account')
  .description('manage accounts besides the default one');

account.command('root-password')
  .description('set the console password of an account root, read from standard input')
  .option('--account-id <id>', '12-digit account id (default: the default account)')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(rootPasswordCommand);

account
  .command('create')
  .description('add an account with a root access key (written to <data-dir>/credentials-<id>)')
  .requiredOption('--account-id <id>', '12-digit account id')
  .option('--alias <alias>', 'alias of its ECR Public registry (default: derived from the account id)')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(accountCreateCommand);

program.command('gc')
  .description('delete blobs no manifest references (older than the grace period) and abandoned uploads, while the registry runs')
  .addOption(configOption())
  .addOption(dataDirOption())
  .option('--dry-run', 'report what would be freed; change nothing')
  .option('--grace-seconds <n>', 'override gc.graceSeconds (default 3600)')
  .option('--json', 'print the report as JSON')
  .action(gcCommand);

program.command('lifecycle')
  .description('lifecycle policies')
  .command('run')
  .description('apply lifecycle policies now (the server also applies them on its schedule)')
  .option('--repository <name>', 'only this repository (in every account, unless --registry-id)')
  .option('--registry-id <account>', 'only repositories of this account')
  .option('--dry-run', 'print what would be expired or archived; change nothing')
  .option('--json', 'print the result as JSON')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(lifecycleRunCommand);

program.command('vulndb')
  .description('manage the offline vulnerability database')
  .command('import <path>')
  .description('load OSV data (osv.dev all.zip exports, OSV JSON files, or a directory of them); replaces the previous data')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(vulndbImportCommand);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
