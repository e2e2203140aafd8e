import { Command, Option } from 'commander';
import { serveCommand } from './serve.js';
import { verifyConfigCommand } from './verify-config.js';
import { fsckCommand } from './fsck.js';
import { accountCreateCommand } from './account.js';
import { encryptExistingCommand } from './encrypt-existing.js';

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
  .option('-w, --workers <n>', 'processes serving the listener (env BERTH_WORKERS; default 1)')
  .action(serveCommand);

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

program.command('encrypt-existing')
  .description('encrypt blobs stored before encryption at rest (safe while serving; resumable)')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(encryptExistingCommand);

program.command('account')
  .description('manage accounts besides the default one')
  .command('create')
  .description('add an account with a root access key (written to <data-dir>/credentials-<id>)')
  .requiredOption('--account-id <id>', '12-digit account id')
  .addOption(configOption())
  .addOption(dataDirOption())
  .action(accountCreateCommand);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
