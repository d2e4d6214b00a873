/**
 * Runs the built `bucket` command as a user would: a child process with its own environment; and
 * the set-up every CLI test file shares (a server, its owner, a scratch directory).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { BUCKET_BIN } from '../helpers/server-process.js';
import {
  startTestServer,
  type InProcessTestServer,
  type ServerOptions,
} from '../helpers/server.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export interface CliOptions {
  /** BUCKET_URL and BUCKET_KEY; a variable left out is unset for the child. */
  readonly env?: { BUCKET_URL?: string; BUCKET_KEY?: string } & Record<string, string | undefined>;
  readonly stdin?: Buffer | string | Readable;
  /** Run on a pseudo-terminal (`script -qec`): stdout is what the user would see. */
  readonly terminal?: boolean;
}

const shellQuoted = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['BUCKET_URL'];
  delete env['BUCKET_KEY'];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) env[name] = value;
  }
  const command = [process.execPath, BUCKET_BIN, ...args];
  // Never spawnSync: the server of a CLI test runs in this process and must go on answering.
  const child = options.terminal
    ? spawn('script', ['-qec', command.map(shellQuoted).join(' '), '/dev/null'], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const { stdin } = options;
  if (stdin === undefined) child.stdin.end();
  else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) child.stdin.end(stdin);
  else stdin.pipe(child.stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({
        code,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** What a command needs to reach a server: its URL and a key. */
export type CliEnv = { BUCKET_URL: string; BUCKET_KEY: string };

export interface CliServer {
  /** The server the commands talk to: one per test file, in the test process. */
  readonly server: InProcessTestServer;
  /** BUCKET_URL and the owner key. */
  readonly owner: CliEnv;
  /** A scratch directory for the file's inputs and downloads, removed afterwards. */
  readonly dir: string;
  /** BUCKET_URL and `key`. */
  as(key: string): CliEnv;
}

/**
 * The set-up of a CLI test file, registered as beforeAll/afterAll where it is called: a server,
 * its owner's environment and a scratch directory. Its members are there once the hook has run.
 */
export function cliServer(options: ServerOptions = {}): CliServer {
  let started: { server: InProcessTestServer; dir: string } | null = null;
  beforeAll(async () => {
    const server = await startTestServer(options);
    started = { server, dir: await mkdtemp(join(tmpdir(), 'bucket-cli-')) };
  });
  afterAll(async () => {
    if (!started) return;
    await started.server.dispose();
    await rm(started.dir, { recursive: true, force: true });
  });
  const get = () => {
    if (!started) throw new Error('cliServer(): used before its beforeAll ran');
    return started;
  };
  const as = (key: string): CliEnv => ({ BUCKET_URL: get().server.url, BUCKET_KEY: key });
  return {
    get server() {
      return get().server;
    },
    get dir() {
      return get().dir;
    },
    get owner() {
      return as(get().server.ownerKey);
    },
    as,
  };
}
