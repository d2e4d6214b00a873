/** The `bucket` command. */
import { Command } from 'commander';
import { serverVariablesHelp, VERSION } from '../config.js';
import { registerAudit } from './commands/audit.js';
import { registerCertify } from './commands/certify.js';
import { registerEvents } from './commands/events.js';
import { registerGet } from './commands/get.js';
import { registerHolds } from './commands/holds.js';
import { registerIntegrations } from './commands/integrations.js';
import { registerKeys } from './commands/keys.js';
import { registerList } from './commands/list.js';
import { registerExceptions } from './commands/exceptions.js';
import { registerCore } from './commands/core.js';
import { registerModes } from './commands/modes.js';
import { registerIntegrity } from './commands/integrity.js';
import { registerPolicy } from './commands/policy.js';
import { registerPut } from './commands/put.js';
import { registerRetention } from './commands/retention.js';
import { registerStatus } from './commands/status.js';
import { registerSubjects } from './commands/subjects.js';
import { registerThreats } from './commands/threats.js';
import { registerTombstone } from './commands/tombstone.js';
import { registerWebhooks } from './commands/webhooks.js';
import { EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { reportError } from './output.js';

// A reader that stops early (`bucket ls --all | head`) is not an error worth a report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(EXIT_FAILURE);
});

const program = new Command();
program
  .name('bucket')
  .description(
    'BHIV Bucket: a governed artifact depository. Remote commands talk to the server at ' +
      'BUCKET_URL (default http://127.0.0.1:8080) with the API key in BUCKET_KEY.',
  )
  .version(VERSION)
  // Options after a subcommand belong to it (`get --version 2` is not the program's --version).
  .enablePositionalOptions()
  .showHelpAfterError('(run the command with --help for its options and examples)')
  // Commander's own usage errors (unknown option, missing argument) exit 2; --help exits 0.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));

program
  .command('serve')
  .description(
    'Run the Bucket server on the storage its environment names (SPEC §12; docs/OPERATIONS.md).',
  )
  .addHelpText(
    'after',
    `\nEnvironment (every variable the server reads; default, meaning):\n${serverVariablesHelp()}`,
  )
  // Loaded on demand: remote commands start without the server's modules.
  .action(async () => (await import('./serve.js')).serve());

let jsonOutput = false;
program.hook('preAction', (_program, command) => {
  jsonOutput = command.opts<{ json?: boolean }>().json === true;
});

registerPut(program);
registerGet(program);
registerList(program);
registerTombstone(program);
registerKeys(program);
registerIntegrations(program);
registerAudit(program);
registerEvents(program);
registerWebhooks(program);
registerThreats(program);
registerStatus(program);
registerPolicy(program);
registerHolds(program);
registerRetention(program);
registerSubjects(program);
registerModes(program);
registerExceptions(program);
registerIntegrity(program);
registerCore(program);
registerCertify(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = reportError(error, jsonOutput);
  // Let stdout drain, but never hang on a leftover handle after a failure.
  setTimeout(() => process.exit(), 1000).unref();
});
