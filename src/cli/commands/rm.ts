/** `bucket rm`: delete an artifact as a restorable tombstone, where its class allows DELETE. */
import type { Command } from 'commander';
import { printJson, printLine } from '../output.js';
import {
  artifactPath,
  connect,
  examples,
  formatRef,
  parseArtifactRef,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';

async function rm(target: string, options: RemoteOptions): Promise<void> {
  const ref = parseArtifactRef(target);
  const client = connect(options);
  const response = await client.send('DELETE', artifactPath(ref));
  response.resume();
  const version = Number(response.headers['x-bucket-version']);
  // The server answers 204 without a body; --json prints what it said in its headers.
  if (options.json) return printJson({ ...ref, version, tombstone: true });
  printLine(`deleted ${formatRef(ref)} (tombstone v${version}; restorable for 90 days)`);
}

export function registerRm(program: Command): void {
  const command = program
    .command('rm')
    .description(
      'Delete an artifact: a tombstone version, restorable for 90 days. Only classes that ' +
        'allow DELETE (e.g. basket_config); the server denies the others with its reasons.',
    )
    .argument('<artifact>', 'the artifact: <product>/<class>/<name>');
  remoteOptions(command)
    .addHelpText('after', examples('bucket rm core/basket_config/nightly.json'))
    .action(rm);
}
