/** `bucket restore`: undo a tombstone within 90 days (a new version with the old content). */
import type { Command } from 'commander';
import type { Static } from 'typebox';
import type { WriteAnswer } from '../../http/schemas.js';
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

async function restore(target: string, options: RemoteOptions): Promise<void> {
  const ref = parseArtifactRef(target);
  const answer = await connect(options).json<Static<typeof WriteAnswer>>(
    'POST',
    `${artifactPath(ref)}/restore`,
  );
  if (options.json) return printJson(answer);
  printLine(`restored ${formatRef(ref)} as v${answer.version} sha256=${answer.sha256}`);
}

export function registerRestore(program: Command): void {
  const command = program
    .command('restore')
    .description(
      'Undo a deletion within 90 days: writes a new version holding the content the ' +
        'artifact had before its tombstone.',
    )
    .argument('<artifact>', 'the artifact: <product>/<class>/<name>');
  remoteOptions(command)
    .addHelpText('after', examples('bucket restore core/basket_config/nightly.json'))
    .action(restore);
}
