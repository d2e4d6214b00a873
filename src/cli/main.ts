/** The `bucket` command. */
import { Command } from 'commander';
import { VERSION } from '../config.js';
import { serve } from './serve.js';

const program = new Command();
program
  .name('bucket')
  .description('BHIV Bucket: a governed artifact depository')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description(
    'Run the Bucket server. Configuration: BUCKET_DATA_DIR (./data), HOST (127.0.0.1), ' +
      'PORT (8080), BUCKET_OWNER_KEY, BUCKET_LOG_LEVEL (info)',
  )
  .action(serve);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`bucket: ${(error as Error).message}\n`);
  process.exit(1);
});
