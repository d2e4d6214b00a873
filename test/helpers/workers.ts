/**
 * Issue 21, `BUCKET_WORKERS`: what the tests of a primary and its worker processes share —
 * requests that each take a connection of their own (the cluster hands each new connection to the
 * next free worker), the workers of a primary, and `bucket audit verify` on the data directory.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BUCKET_BIN, type ServerProcess } from './server-process.js';

const run = promisify(execFile);

export interface Answer {
  readonly status: number;
  readonly json: any;
}

/** One request on a new connection (no keep-alive): the cluster gives it to the next worker. */
export function fresh(
  server: Pick<ServerProcess, 'url'>,
  key: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      server.url + path,
      {
        method,
        agent: false,
        headers: {
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          connection: 'close',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A connection handed to a worker as it was killed is cut, never left hanging.
    req.setTimeout(15_000, () => req.destroy(new Error('no answer in 15 s')));
    req.end(payload);
  });
}

/** The worker processes of the primary `pid`. */
export async function workersOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}

/** Whether the process `pid` still runs (a zombie counts as gone). */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // The state follows the command's closing parenthesis: "Z" is a zombie, already exited.
  return stat !== null && !/\)\s+Z/.test(stat);
}

export async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `bucket audit verify` on the data directory: its output. */
export async function verifyLog(dataDir: string): Promise<string> {
  const { stdout } = await run(process.execPath, [
    BUCKET_BIN,
    'audit',
    'verify',
    '--data-dir',
    dataDir,
  ]);
  return stdout;
}
