/** `bucket put`: upload a file or stdin as a new version of an artifact, streamed. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { Argument, type Command } from 'commander';
import type { Static } from 'typebox';
import type { WriteAnswer as WriteAnswerSchema } from '../../http/schemas.js';
import { readJson, responseHeader, ServerError, type BucketClient } from '../client.js';
import { UsageError } from '../errors.js';
import { printJson, printLine } from '../output.js';
import { startProgress } from '../progress.js';
import {
  artifactPath,
  collect,
  connect,
  examples,
  formatVersion,
  nonNegativeInteger,
  parseArtifactRef,
  remoteOptions,
  type ArtifactRef,
} from '../remote.js';
import { sha256OfFile, tap } from '../streams.js';
import { DEFAULT_BATCH_SIZE, putBatch, type BatchOptions } from './batch.js';

const META_PREFIX = 'x-bucket-meta-';

interface PutOptions extends BatchOptions {
  readonly batch?: string;
  readonly contentType?: string;
  readonly meta?: readonly string[];
  readonly ifNoneMatch?: boolean;
  readonly ifVersion?: number;
  readonly force?: boolean;
}

/** The write answer (SPEC §3), as the route's schema declares it. */
export type WriteAnswer = Static<typeof WriteAnswerSchema>;

interface Upload {
  readonly stream: Readable;
  /** Known for regular files; stdin and pipes are sent chunked. */
  readonly size: number | null;
  readonly sha256: string | null;
}

/** The current version of an artifact, as its HEAD answer describes it. */
interface Current {
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
  readonly contentType: string;
}

async function openUpload(file: string): Promise<Upload> {
  if (file === '-') return { stream: process.stdin, size: null, sha256: null };
  let stats;
  try {
    stats = await stat(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (stats.isDirectory()) throw new UsageError(`${file} is a directory`);
  if (!stats.isFile()) return { stream: createReadStream(file), size: null, sha256: null };
  // Hashed first, so the server can verify what it received (x-bucket-sha256).
  const sha256 = await sha256OfFile(file);
  return { stream: createReadStream(file), size: stats.size, sha256 };
}

export function defaultContentType(fileName: string): string {
  return extname(fileName).toLowerCase() === '.json'
    ? 'application/json'
    : 'application/octet-stream';
}

/** A 415 answered to the type put chose by itself: the option that sends another. */
function defaultTypeHint(sent: string, file: string): string {
  const source = file === '-' ? 'stdin to an artifact name' : 'a file';
  if (sent === 'application/json') {
    return (
      `bucket put sent application/json, its default for ${source} ending in .json: add ` +
      '--content-type with a type the class accepts'
    );
  }
  return (
    `bucket put sent ${sent}, its default for ${source} not ending in .json: if the content ` +
    'is JSON, add --content-type application/json (or another type the class accepts)'
  );
}

/** `--meta key=value` → `x-bucket-meta-key: value`. */
export function metaHeaders(pairs: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    const key = pair.slice(0, Math.max(separator, 0)).trim().toLowerCase();
    const value = pair.slice(separator + 1);
    if (separator < 1 || !/^[a-z0-9][a-z0-9_-]*$/.test(key)) {
      throw new UsageError(`--meta "${pair}": expected key=value with a key of [a-z0-9_-]`);
    }
    if (!/^[\t\x20-\x7e]*$/.test(value)) {
      throw new UsageError(`--meta "${pair}": the value must be printable ASCII`);
    }
    headers[META_PREFIX + key] = value;
  }
  return headers;
}

/**
 * The current version when it already holds exactly what this put would write — the same
 * SHA-256, content type and metadata — or null. Re-running an upload whose answer was lost (a
 * dropped connection after the commit) then reports the stored version instead of writing a
 * duplicate, or, in a write-once class, attempting an overwrite the gate denies as a threat.
 */
async function unchangedCurrent(
  client: BucketClient,
  ref: ArtifactRef,
  sha256: string,
  headers: OutgoingHttpHeaders,
): Promise<Current | null> {
  let response: IncomingMessage;
  try {
    response = await client.send('HEAD', artifactPath(ref));
  } catch (error) {
    // Not there (404), or not readable by this key: the PUT decides.
    if (error instanceof ServerError) return null;
    throw error;
  }
  response.resume();
  if (responseHeader(response, 'x-bucket-sha256') !== sha256) return null;
  const contentType = responseHeader(response, 'content-type');
  if (contentType !== headers['content-type']) return null;
  const stored = Object.keys(response.headers).filter((name) => name.startsWith(META_PREFIX));
  const sent = Object.keys(headers).filter((name) => name.startsWith(META_PREFIX));
  if (stored.length !== sent.length) return null;
  if (sent.some((name) => responseHeader(response, name) !== headers[name])) return null;
  return {
    version: Number(responseHeader(response, 'x-bucket-version')),
    sha256,
    size: Number(responseHeader(response, 'content-length')),
    contentType,
  };
}

/**
 * What the user may do to write this content again anyway: --force, unless the class is
 * write-once (no UPDATE in the live policy's operation rules, which every key may read), where a
 * forced put is only the overwrite the gate refuses (T3).
 */
async function againHint(client: BucketClient, className: string): Promise<string> {
  let updatable: boolean | null = null;
  try {
    const rules = await client.json<{ classes?: Record<string, { operations?: string[] }> }>(
      'GET',
      '/governance/gate/operation-rules',
    );
    const operations = rules.classes?.[className]?.operations;
    if (operations) updatable = operations.includes('UPDATE');
  } catch (error) {
    // The rules unreadable: a hint true either way below.
    if (!(error instanceof ServerError)) throw error;
  }
  if (updatable === false) {
    return `class "${className}" is write-once: a new version needs a new name`;
  }
  if (updatable === true) return '--force writes a new version';
  return '--force writes a new version where the class allows UPDATE';
}

async function putCommand(
  ref: ArtifactRef | undefined,
  file: string | undefined,
  options: PutOptions,
): Promise<void> {
  if (options.batch !== undefined) {
    if (ref !== undefined) {
      throw new UsageError('--batch takes its items from the file: give no <artifact> or <file>');
    }
    return putBatch(options.batch, options);
  }
  if (options.atomic || options.batchSize !== undefined) {
    throw new UsageError('--atomic and --batch-size go with --batch FILE.ndjson');
  }
  if (ref === undefined || file === undefined) {
    throw new UsageError('put needs <artifact> and <file> (or --batch FILE.ndjson)');
  }
  return put(ref, file, options);
}

async function put(ref: ArtifactRef, file: string, options: PutOptions): Promise<void> {
  const headers: OutgoingHttpHeaders = {
    'content-type': options.contentType ?? defaultContentType(file === '-' ? ref.name : file),
    ...metaHeaders(options.meta ?? []),
  };
  if (options.ifNoneMatch) headers['if-none-match'] = '*';
  if (options.ifVersion !== undefined) headers['x-bucket-if-version'] = String(options.ifVersion);
  const client = connect(options);

  const upload = await openUpload(file);
  if (upload.size !== null) headers['content-length'] = String(upload.size);
  if (upload.sha256 !== null) headers['x-bucket-sha256'] = upload.sha256;
  // Preconditions say what the caller wants when the name exists; --force always writes.
  const conditional = options.ifNoneMatch === true || options.ifVersion !== undefined;
  if (upload.sha256 !== null && !conditional && options.force !== true) {
    const current = await unchangedCurrent(client, ref, upload.sha256, headers);
    if (current) {
      upload.stream.destroy();
      if (options.json) return printJson({ ...ref, ...current, unchanged: true });
      printLine(
        `unchanged ${formatVersion({ ...ref, ...current })}: the current version already holds this ` +
          `content, nothing was uploaded (${await againHint(client, ref.class)})`,
      );
      return;
    }
  }
  const progress = options.json ? null : startProgress('put', upload.size, process.stdout);
  const body = progress
    ? Readable.from(
        tap(upload.stream, (chunk) => progress.advance(chunk.length)),
        { objectMode: false },
      )
    : upload.stream;

  let answer: WriteAnswer;
  let created: boolean;
  try {
    const response = await client.send('PUT', artifactPath(ref), { headers, body });
    created = response.statusCode === 201;
    answer = await readJson<WriteAnswer>(response);
  } catch (error) {
    if (error instanceof ServerError && error.status === 415 && options.contentType === undefined) {
      error.hints.push(defaultTypeHint(String(headers['content-type']), file));
    }
    throw error;
  } finally {
    progress?.stop();
    upload.stream.destroy();
  }
  if (options.json) return printJson(answer);
  printLine(`${created ? 'created' : 'updated'} ${formatVersion(answer)}`);
}

export function registerPut(program: Command): void {
  const command = program
    .command('put')
    .description(
      'Upload a file (or stdin, with -) as a new version of an artifact. The content is ' +
        "streamed; a file's SHA-256 is computed first and verified by the server. A file the " +
        'current version already holds (same SHA-256, type and metadata) is not sent again, so ' +
        'an upload whose answer was lost can simply be run again.',
    )
    .addArgument(
      new Argument('[artifact]', 'the artifact: <product>/<class>/<name>').argParser(
        parseArtifactRef,
      ),
    )
    .argument('[file]', 'the file to upload, or - to read stdin')
    .option(
      '--content-type <type>',
      'the content type (default: application/json for *.json, else application/octet-stream)',
    )
    .option(
      '--meta <key=value>',
      'user metadata, sent as x-bucket-meta-<key> (repeatable)',
      collect,
    )
    .option('--if-none-match', 'create only: fail (412) if the artifact already exists')
    .option(
      '--if-version <n>',
      'fail (409) unless the current version is n (0: does not exist yet)',
      nonNegativeInteger,
    )
    .option(
      '--force',
      'write a new version even when the current one already holds the same content, type ' +
        'and metadata (by default such a put uploads nothing and reports that version); a ' +
        'write-once class (no UPDATE, e.g. model_checkpoint) refuses it',
    )
    .option(
      '--batch <file.ndjson>',
      'write and delete many artifacts: one item a line, {"op":"put","product","class",' +
        '"name","json"|"base64","contentType"?,"meta"?} or {"op":"delete",…} (- for stdin)',
    )
    .option('--atomic', 'with --batch: all items or none, in one atomic batch')
    .option(
      '--batch-size <n>',
      `with --batch: items per request (default ${DEFAULT_BATCH_SIZE}, the server's maxBatch)`,
      nonNegativeInteger,
    );
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket put ai_avatar/model_checkpoint/avatar/v3.ckpt ./v3.ckpt',
        'bucket put ai_assistant/metadata/run/42.json run.json --if-none-match',
        'bucket put ai_avatar/persona_config/tutor.json persona.json --if-version 2 --meta source=studio',
        'generate-report | bucket put gurukul/educational_content/week1.md - --content-type text/markdown',
        'bucket put --batch progress.ndjson',
        'bucket put --batch release.ndjson --atomic',
      ),
    )
    .action(putCommand);
}
