/** `bucket put`: upload a file or stdin as a new version of an artifact, streamed. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Static } from 'typebox';
import type { WriteAnswer as WriteAnswerSchema } from '../../http/schemas.js';
import { readJson } from '../client.js';
import { UsageError } from '../errors.js';
import { printJson, printLine } from '../output.js';
import { startProgress } from '../progress.js';
import {
  artifactPath,
  collect,
  connect,
  examples,
  formatRef,
  nonNegativeInteger,
  parseArtifactRef,
  remoteOptions,
  type RemoteOptions,
} from '../remote.js';
import { sha256OfFile, tap } from '../streams.js';

interface PutOptions extends RemoteOptions {
  readonly contentType?: string;
  readonly meta?: readonly string[];
  readonly ifNoneMatch?: boolean;
  readonly ifVersion?: number;
}

/** The write answer (SPEC §3), as the route's schema declares it. */
export type WriteAnswer = Static<typeof WriteAnswerSchema>;

interface Upload {
  readonly stream: Readable;
  /** Known for regular files; stdin and pipes are sent chunked. */
  readonly size: number | null;
  readonly sha256: string | null;
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
    headers[`x-bucket-meta-${key}`] = value;
  }
  return headers;
}

async function put(target: string, file: string, options: PutOptions): Promise<void> {
  const ref = parseArtifactRef(target);
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
  } finally {
    progress?.stop();
    upload.stream.destroy();
  }
  if (options.json) return printJson(answer);
  printLine(
    `${created ? 'created' : 'updated'} ${formatRef(answer)} v${answer.version} ` +
      `sha256=${answer.sha256} size=${answer.size}`,
  );
}

export function registerPut(program: Command): void {
  const command = program
    .command('put')
    .description(
      'Upload a file (or stdin, with -) as a new version of an artifact. The content is ' +
        "streamed; a file's SHA-256 is computed first and verified by the server.",
    )
    .argument('<artifact>', 'the artifact: <product>/<class>/<name>')
    .argument('<file>', 'the file to upload, or - to read stdin')
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
    );
  remoteOptions(command)
    .addHelpText(
      'after',
      examples(
        'bucket put ai_avatar/model_checkpoint/avatar/v3.ckpt ./v3.ckpt',
        'bucket put ai_assistant/metadata/run/42.json run.json --if-none-match',
        'bucket put ai_avatar/persona_config/tutor.json persona.json --if-version 2 --meta source=studio',
        'generate-report | bucket put gurukul/educational_content/week1.md - --content-type text/markdown',
      ),
    )
    .action(put);
}
