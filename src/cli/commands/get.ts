/**
 * `bucket get`: download an artifact to stdout or to a file. The content is streamed and its
 * SHA-256 checked against the server's `x-bucket-sha256`; a file appears only when complete. A
 * download to a file that is cut off keeps the bytes received, and the same command continues it
 * with `Range` and `If-Range` (RFC 9110 §14.2, §13.1.5) while the content is still the same.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { SHA256_HEX } from '../../domain/sha256.js';
import { responseHeader, ServerError, type BucketClient } from '../client.js';
import { CliError, UsageError } from '../errors.js';
import { note, printJson, printLine, reportError } from '../output.js';
import {
  findPartials,
  hashPrefix,
  partialPath,
  removePartials,
  type PartialFile,
} from '../partial.js';
import { startProgress } from '../progress.js';
import {
  artifactArgument,
  artifactPath,
  connect,
  examples,
  formatRef,
  positiveInteger,
  remoteOptions,
  type ArtifactRef,
  type RemoteOptions,
} from '../remote.js';
import { tap } from '../streams.js';

interface GetOptions extends RemoteOptions {
  readonly output?: string;
  readonly version?: number;
  /** False with --no-resume. */
  readonly resume: boolean;
}

interface Received {
  readonly version: number;
  readonly sha256: string;
  /** The whole content's size, also when the answer carries only its end (206). */
  readonly size: number;
  readonly contentType: string;
}

/** The exit status of a command stopped by Ctrl-C, as shells report it. */
const EXIT_INTERRUPTED = 130;
const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

function describe(response: IncomingMessage): Received {
  const range = CONTENT_RANGE.exec(responseHeader(response, 'content-range'));
  return {
    version: Number(responseHeader(response, 'x-bucket-version')),
    sha256: responseHeader(response, 'x-bucket-sha256'),
    size: Number(
      response.statusCode === 206 && range ? range[3] : responseHeader(response, 'content-length'),
    ),
    contentType: responseHeader(response, 'content-type'),
  };
}

/** The answer ended before its last byte. */
class CutOff extends CliError {
  constructor(
    readonly reason: string,
    received: number,
    size: number,
  ) {
    super(`the download was cut off after ${received} of ${size} bytes (${reason})`);
  }
}

function cutOffReason(error: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted) return String(signal.reason);
  // Node's word for an answer whose connection closed before its end.
  if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') return 'the connection was lost';
  return (error as Error).message;
}

/** Where a transfer starts: at 0, or after the bytes of a partial file already hashed. */
interface Start {
  readonly hash: Hash;
  readonly bytes: number;
}

/** Streams the body into `sink`, hashing it and drawing progress; `bytes` counts from the start. */
async function receive(
  response: IncomingMessage,
  received: Received,
  sink: NodeJS.WritableStream,
  terminal: NodeJS.WriteStream,
  start: Start = { hash: createHash('sha256'), bytes: 0 },
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const { hash } = start;
  const progress = startProgress('get', received.size, terminal, start.bytes);
  let bytes = start.bytes;
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
      ...(signal ? [{ signal }] : []),
    );
  } catch (error) {
    if (!response.complete) throw new CutOff(cutOffReason(error, signal), bytes, received.size);
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
  return { sha256, bytes };
}

/** A 206 that carries exactly the rest of `partial`'s content. */
function continues(response: IncomingMessage, partial: PartialFile): boolean {
  const range = CONTENT_RANGE.exec(responseHeader(response, 'content-range'));
  return (
    range !== null &&
    Number(range[1]) === partial.size &&
    Number(range[2]) === Number(range[3]) - 1 &&
    responseHeader(response, 'x-bucket-sha256') === partial.sha256
  );
}

interface Answer {
  readonly response: IncomingMessage;
  /** The partial file the answer continues; absent when it carries the whole content. */
  readonly resumes?: PartialFile;
}

/** Asks for the content, or for the rest of `partial` while the content is still the partial's. */
async function request(
  client: BucketClient,
  ref: ArtifactRef,
  version: number | undefined,
  partial?: PartialFile,
): Promise<Answer> {
  const path = artifactPath(ref);
  const query = { version };
  if (partial === undefined) return { response: await client.send('GET', path, { query }) };
  const headers = { range: `bytes=${partial.size}-`, 'if-range': `"${partial.sha256}"` };
  let response: IncomingMessage;
  try {
    response = await client.send('GET', path, { query, headers });
  } catch (error) {
    // 416: the partial is as long as the content or longer, so it holds no beginning of it.
    if (!(error instanceof ServerError && error.status === 416)) throw error;
    note(`discarding ${partial.path}: it is not shorter than the content`);
    await removePartials([partial]);
    return request(client, ref, version);
  }
  // 200: the content is not the partial's any more (a new current version); it comes whole.
  if (response.statusCode !== 206) return { response };
  if (continues(response, partial)) return { response, resumes: partial };
  response.destroy();
  note(`discarding ${partial.path}: the Bucket answered with another part of the content`);
  await removePartials([partial]);
  return request(client, ref, version);
}

/**
 * Downloads into the partial file of `output` (continuing the one left by a cut-off download of
 * the same content), renamed into place only once verified. A cut-off download keeps its bytes.
 */
async function download(
  client: BucketClient,
  ref: ArtifactRef,
  options: GetOptions,
  output: string,
): Promise<Received> {
  const partials = await findPartials(output);
  if (!options.resume) await removePartials(partials);
  const resumable = options.resume ? partials.find((partial) => partial.size > 0) : undefined;
  const { response, resumes } = await request(client, ref, options.version, resumable);
  const received = describe(response);
  // The SHA-256 names the partial file: it must be one, not a path.
  if (!SHA256_HEX.test(received.sha256)) {
    response.destroy();
    throw new CliError(
      `the Bucket's answer has no valid x-bucket-sha256 ("${received.sha256}"), ` +
        'so the download could not be verified',
    );
  }
  // Any other partial of this file is of other content: it will never be continued.
  await removePartials(partials.filter((partial) => partial.path !== resumes?.path));
  const partial = partialPath(output, received.sha256);
  const start = { hash: createHash('sha256'), bytes: resumes?.size ?? 0 };
  let file: FileHandle;
  try {
    // Written at an offset, never appended, and a new file never truncates one being written: a
    // second download of the same content at the same time writes the same bytes in the same
    // places, or fails here.
    file = await open(partial, resumes ? 'r+' : 'wx');
  } catch (error) {
    response.destroy();
    const running = (error as NodeJS.ErrnoException).code === 'EEXIST';
    throw new CliError(
      `cannot write ${partial}: ${(error as Error).message}` +
        (running ? ' (is another download of it running?)' : ''),
    );
  }
  const sink = file.createWriteStream({ start: start.bytes });

  const abort = new AbortController();
  let interruption: NodeJS.Signals | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    interruption = signal;
    abort.abort(`interrupted by ${signal}`);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (resumes) {
      note(`resuming ${output} at ${resumes.size} of ${received.size} bytes`);
      await hashPrefix(partial, resumes.size, start.hash, abort.signal);
    }
    const { bytes } = await receive(response, received, sink, process.stdout, start, abort.signal);
    const written = (await stat(partial).catch(() => null))?.size;
    if (written !== bytes) {
      throw new CliError(
        `integrity check failed: ${partial} ` +
          `${written === undefined ? 'is gone' : `has ${written} bytes`}, not the ${bytes} ` +
          'received (was it written by another download at the same time?)',
      );
    }
    await rename(partial, output);
    return received;
  } catch (error) {
    response.destroy();
    sink.destroy();
    const failure = await keepOrDiscard(error, partial, received.size, abort.signal);
    if (interruption === 'SIGINT') {
      reportError(failure);
      process.exit(EXIT_INTERRUPTED);
    }
    throw failure;
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

/**
 * After a failed download: a cut-off one keeps the bytes it received; any other failure, a failed
 * integrity check first, discards them, since they may be wrong. Returns the error to report.
 */
async function keepOrDiscard(
  error: unknown,
  partial: string,
  size: number,
  signal: AbortSignal,
): Promise<unknown> {
  const cutOff = error instanceof CutOff || signal.aborted;
  const kept = cutOff ? ((await stat(partial).catch(() => null))?.size ?? 0) : 0;
  if (kept === 0) await unlink(partial).catch(() => undefined);
  if (!cutOff) return error;
  const reason = signal.aborted ? String(signal.reason) : (error as CutOff).reason;
  return new CliError(
    `the download was cut off after ${kept} of ${size} bytes (${reason})` +
      (kept > 0
        ? `; the ${kept} bytes received are kept in ${partial}: ` +
          'run the same command again to continue'
        : ''),
  );
}

/** Fails before the download starts when the file could not be written. */
async function checkWritable(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

async function get(ref: ArtifactRef, options: GetOptions): Promise<void> {
  const toFile = options.output !== undefined && options.output !== '-';
  if (toFile) await checkWritable(options.output ?? '');
  const client = connect(options);

  if (!toFile) {
    const response = await client.send('GET', artifactPath(ref), {
      query: { version: options.version },
    });
    const received = describe(response);
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
  const received = await download(client, ref, options, path);
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
      'Download an artifact to stdout, or to a file with -o: received into .<file>.<sha256>.part ' +
        'beside it and renamed into place once its SHA-256 matches. A download cut off (network, ' +
        'Ctrl-C) keeps that partial file, and the same command continues it where it stopped, ' +
        'if the content is still the same (If-Range); otherwise it starts again.',
    )
    .addArgument(artifactArgument())
    .option('-o, --output <file>', 'write the content to this file instead of stdout')
    .option('--version <n>', 'read this version instead of the current one', positiveInteger)
    .option('--no-resume', 'with -o: discard a partial download of the file and start from zero');
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket get ai_avatar/model_checkpoint/avatar/v3.ckpt -o v3.ckpt',
        'bucket get ai_avatar/model_checkpoint/avatar/v3.ckpt -o v3.ckpt   # again: continues a cut-off download',
        'bucket get ai_avatar/model_checkpoint/avatar/v3.ckpt -o v3.ckpt --no-resume',
        'bucket get ai_assistant/metadata/run/42.json | jq .',
        'bucket get ai_avatar/persona_config/tutor.json --version 1 -o tutor-v1.json',
      ) +
        '\nDownloads to the same file are not locked against each other: run one at a time. If two\n' +
        'overlap, the SHA-256 and size checks refuse a mixed-up file (discarding the partial one)\n' +
        'rather than save it.\n',
    )
    .action(get);
}
