/**
 * `bucket rm` and `bucket restore`: delete an artifact as a tombstone, where its class allows
 * DELETE, and undo that within the restore window (a new version with the old content).
 */
import type { Command } from 'commander';
import type { Static } from 'typebox';
import type { WriteAnswer } from '../../http/schemas.js';
import { printJson, printLine } from '../output.js';
import {
  artifactArgument,
  artifactPath,
  connect,
  examples,
  formatRef,
  remoteOptions,
  type ArtifactRef,
  type RemoteOptions,
} from '../remote.js';

/** How long the server keeps a tombstone restorable (services/artifacts.ts). */
const RESTORE_WINDOW = '90 days';

async function rm(ref: ArtifactRef, options: RemoteOptions): Promise<void> {
  const response = await connect(options).send('DELETE', artifactPath(ref));
  response.resume();
  const version = Number(response.headers['x-bucket-version']);
  // The server answers 204 without a body; --json prints what it said in its headers.
  if (options.json) return printJson({ ...ref, version, tombstone: true });
  printLine(`deleted ${formatRef(ref)} (tombstone v${version}; restorable for ${RESTORE_WINDOW})`);
}

async function restore(ref: ArtifactRef, options: RemoteOptions): Promise<void> {
  const answer = await connect(options).json<Static<typeof WriteAnswer>>(
    'POST',
    `${artifactPath(ref)}/restore`,
  );
  if (options.json) return printJson(answer);
  printLine(`restored ${formatRef(ref)} as v${answer.version} sha256=${answer.sha256}`);
}

export function registerTombstone(program: Command): void {
  const rmCommand = program
    .command('rm')
    .description(
      `Delete an artifact: a tombstone version, restorable for ${RESTORE_WINDOW}. Only classes ` +
        'that allow DELETE (e.g. basket_config); the server denies the others with its reasons.',
    )
    .addArgument(artifactArgument());
  remoteOptions(rmCommand)
    .addHelpText('after', examples('bucket rm core/basket_config/nightly.json'))
    .action(rm);

  const restoreCommand = program
    .command('restore')
    .description(
      `Undo a deletion within ${RESTORE_WINDOW}: writes a new version holding the content the ` +
        'artifact had before its tombstone.',
    )
    .addArgument(artifactArgument());
  remoteOptions(restoreCommand)
    .addHelpText('after', examples('bucket restore core/basket_config/nightly.json'))
    .action(restore);
}
