/** Runs the built `bucket` command as a user would: a child process with its own environment. */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BUCKET_BIN } from '../helpers/server-process.js';

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
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['BUCKET_URL'];
  delete env['BUCKET_KEY'];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) env[name] = value;
  }
  const child = spawn(process.execPath, [BUCKET_BIN, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
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
