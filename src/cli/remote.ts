/**
 * What every remote command shares: the `--url`, `--key` and `--json` options, the connection
 * they describe (SPEC §12: `BUCKET_URL`, `BUCKET_KEY`), and the `product/class/name` argument.
 */
import { Argument, InvalidArgumentError, type Command } from 'commander';
import type { ArtifactKey } from '../domain/artifact.js';
import { BucketClient } from './client.js';
import { UsageError } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface RemoteOptions {
  readonly url?: string;
  readonly key?: string;
  readonly json?: boolean;
}

/** Adds the options of a remote command (after its own, so they come last in `--help`). */
export function remoteOptions(command: Command): Command {
  return command
    .option('--url <url>', `the Bucket's address (default: $BUCKET_URL, else ${DEFAULT_URL})`)
    .option('--key <key>', 'the API key (default: $BUCKET_KEY; prefer the variable)')
    .option('--json', "print the server's JSON answer instead of text");
}

export interface ConnectOptions {
  /** Connect without a key when none is set: only public routes (`/health`) will answer. */
  readonly keyOptional?: boolean;
}

export function connect(
  options: RemoteOptions,
  env: NodeJS.ProcessEnv = process.env,
  { keyOptional = false }: ConnectOptions = {},
): BucketClient {
  const fromEnv = env['BUCKET_URL'] ? env['BUCKET_URL'] : undefined;
  const urlText = options.url ?? fromEnv ?? DEFAULT_URL;
  const urlSource =
    options.url !== undefined
      ? '--url'
      : fromEnv !== undefined
        ? 'BUCKET_URL'
        : 'default; set BUCKET_URL';
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new UsageError(`${urlSource} is not a URL: "${urlText}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${urlSource} must be an http:// or https:// URL, not "${urlText}"`);
  }
  const key = (options.key ?? env['BUCKET_KEY'] ?? '').trim();
  if (key === '' && keyOptional) return new BucketClient(url, null, urlSource);
  if (key === '') {
    throw new UsageError(
      'no API key: set BUCKET_KEY (or pass --key) to a key the Bucket owner created ' +
        'with `bucket keys create`',
    );
  }
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw new UsageError('the API key contains characters that cannot be sent in a header');
  }
  return new BucketClient(url, key, urlSource);
}

/** An artifact's address: `<product>/<class>/<name>`, the name possibly containing `/`. */
export type ArtifactRef = ArtifactKey;

export function parseArtifactRef(text: string): ArtifactRef {
  const [product = '', artifactClass = '', ...rest] = text.split('/');
  const name = rest.join('/');
  if (product === '' || artifactClass === '' || name === '') {
    throw new UsageError(
      `"${text}" is not an artifact address: expected <product>/<class>/<name>, ` +
        'e.g. ai_avatar/model_checkpoint/avatar/v3.ckpt',
    );
  }
  return { product, class: artifactClass, name };
}

/** The `<artifact>` argument of a command, handed to its action as an ArtifactRef. */
export function artifactArgument(): Argument {
  // A malformed address throws the UsageError of parseArtifactRef (exit 2) before the action runs.
  return new Argument('<artifact>', 'the artifact: <product>/<class>/<name>').argParser(
    parseArtifactRef,
  );
}

export function formatRef(ref: ArtifactRef): string {
  return `${ref.product}/${ref.class}/${ref.name}`;
}

/** A version as the commands print it: `<product>/<class>/<name> v<n> sha256=<hex> size=<bytes>`. */
export function formatVersion(
  version: ArtifactRef & {
    readonly version: number;
    readonly sha256: string;
    readonly size: number;
  },
): string {
  return `${formatRef(version)} v${version.version} sha256=${version.sha256} size=${version.size}`;
}

/** The API path of an artifact; each segment percent-encoded, the name's `/` kept. */
export function artifactPath(ref: ArtifactRef, suffix = ''): string {
  const segments = [ref.product, ref.class, ...ref.name.split('/')].map(encodeURIComponent);
  return `/v1/artifacts/${segments.join('/')}${suffix}`;
}

/** Commander argument parsers: a bad value is a usage error (exit 2). */
export function positiveInteger(value: string): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return Number(value);
}

export function nonNegativeInteger(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected an integer ≥ 0');
  return Number(value);
}

/** A time, normalized to the ISO-8601 UTC form the API expects. */
export function isoTime(value: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2027-01-31T00:00:00Z');
  }
  return new Date(time).toISOString();
}

export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Examples appended to a command's `--help`. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}
