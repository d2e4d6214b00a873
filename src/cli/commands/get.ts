/**
 * `bucket get`: download an artifact to stdout or to a file. The content is streamed and its
 * SHA-256 checked against the server's `x-bucket-sha256`; a file appears only when complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream, unlinkSync } from 'node:fs';
import { access, rename, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError, UsageError } from '../errors.js';
import { printJson, printLine } from '../output.js';
import { startProgress } from '../progress.js';
import {
  artifactPath,
  connect,
  examples,
  formatRef,
  parseArtifactRef,
  positiveInteger,
  remoteOptions,
  type ArtifactRef,
  type RemoteOptions,
} from '../remote.js';
import { tap } from '../streams.js';

interface GetOptions extends RemoteOptions {
  readonly output?: string;
  readonly version?: number;
}

interface Received {
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
  readonly contentType: string;
}

function header(response: IncomingMessage, name: string): string {
  const value = response.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function describe(response: IncomingMessage): Received {
  return {
    version: Number(header(response, 'x-bucket-version')),
    sha256: header(response, 'x-bucket-sha256'),
    size: Number(header(response, 'content-length')),
    contentType: header(response, 'content-type'),
  };
}

/** Streams the body into `sink`, hashing it and drawing progress; returns the SHA-256. */
async function receive(
  response: IncomingMessage,
  received: Received,
  sink: NodeJS.WritableStream,
  terminal: NodeJS.WriteStream,
): Promise<string> {
  const hash = createHash('sha256');
  const progress = startProgress('get', received.size, terminal);
  let bytes = 0;
  try {
    await pipeline(
      response,
      (source: AsyncIterable<Buffer>) =>
        tap(source, (chunk) => {
          hash.update(chunk);
          bytes += chunk.length;
          progress?.advance(chunk.length);
        }),
      sink,
    );
  } catch (error) {
    if (!response.complete) {
      throw new CliError(
        `the download was cut off after ${bytes} of ${received.size} bytes ` +
          `(${(error as Error).message})`,
      );
    }
    throw error;
  } finally {
    progress?.stop();
  }
  const sha256 = hash.digest('hex');
  if (received.sha256 !== '' && sha256 !== received.sha256) {
    throw new CliError(
      `integrity check failed: received content has SHA-256 ${sha256}, ` +
        `the server announced ${received.sha256}`,
    );
  }
  return sha256;
}

/** Downloads into a temporary file beside `path`, renamed into place only once verified. */
async function receiveFile(
  response: IncomingMessage,
  received: Received,
  path: string,
): Promise<void> {
  const partial = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`);
  const interrupted = () => {
    try {
      unlinkSync(partial);
    } finally {
      process.exit(130);
    }
  };
  process.once('SIGINT', interrupted);
  try {
    await receive(response, received, createWriteStream(partial, { flags: 'wx' }), process.stdout);
    await rename(partial, path);
  } catch (error) {
    await unlink(partial).catch(() => undefined);
    throw error;
  } finally {
    process.removeListener('SIGINT', interrupted);
  }
}

/** Fails before the download starts when the file could not be written. */
async function checkWritable(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

async function get(target: string, options: GetOptions): Promise<void> {
  const ref: ArtifactRef = parseArtifactRef(target);
  const toFile = options.output !== undefined && options.output !== '-';
  if (toFile) await checkWritable(options.output ?? '');
  const client = connect(options);
  const response = await client.send('GET', artifactPath(ref), {
    query: { version: options.version },
  });
  const received = describe(response);

  if (!toFile) {
    if (process.stdout.isTTY && !/^(text\/|application\/json)/.test(received.contentType)) {
      response.destroy();
      throw new UsageError(
        `refusing to write ${received.contentType || 'binary'} content to a terminal: ` +
          'pass -o FILE or pipe the output',
      );
    }
    await receive(response, received, process.stdout, process.stderr);
    return;
  }
  const path = options.output ?? '';
  await receiveFile(response, received, path);
  const answer = { ...ref, ...received, file: path };
  if (options.json) return printJson(answer);
  printLine(
    `saved ${formatRef(ref)} v${received.version} to ${path} ` +
      `sha256=${received.sha256} size=${received.size}`,
  );
}

export function registerGet(program: Command): void {
  const command = program
    .command('get')
    .description(
      'Download an artifact to stdout, or to a file with -o (written to a temporary file and ' +
        'renamed into place once its SHA-256 matches).',
    )
    .argument('<artifact>', 'the artifact: <product>/<class>/<name>')
    .option('-o, --output <file>', 'write the content to this file instead of stdout')
    .option('--version <n>', 'read this version instead of the current one', positiveInteger);
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket get ai_avatar/model_checkpoint/avatar/v3.ckpt -o v3.ckpt',
        'bucket get ai_assistant/metadata/run/42.json | jq .',
        'bucket get ai_avatar/persona_config/tutor.json --version 1 -o tutor-v1.json',
      ),
    )
    .action(get);
}
