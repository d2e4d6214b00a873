/**
 * A real Bucket server process, for the tests whose point is the process: kill -9 and restart,
 * what `bucket serve` prints, a node killed under its peers. `node bin/bucket.js serve` on a fresh
 * data directory and a free port; needs the build (`npm run build`; `npm test` runs it first).
 * Every other end-to-end test runs its server in the test process (./server.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './process-registry.js';
import { backendFor } from './scaleout.js';
import { serverEnv, type ServerOptions, type TestServer } from './server.js';

/** How long a server process may take to say it listens. */
const START_TIMEOUT_MS = 60_000;
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUCKET_BIN = join(REPO_ROOT, 'bin', 'bucket.js');

export interface ProcessOptions extends ServerOptions {
  /**
   * A command the server runs under, e.g. `['strace', '-f', '-o', file]`: it is given
   * `node bin/bucket.js serve` as its last arguments. Signals then go to the server itself (its
   * pid from `<dataDir>/bucket.pid`), which the wrapper outlives by nothing.
   */
  readonly wrap?: readonly string[];
}

export interface ServerProcess extends TestServer {
  readonly process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServerProcess(options: ProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'bucket-test-')));
  const { backend, ownsBackend } = await backendFor(dataDir, options);
  const [command, ...wrapArgs] = options.wrap ?? [];
  const serve = [BUCKET_BIN, 'serve'];
  const child = spawn(
    command ?? process.execPath,
    command ? [...wrapArgs, process.execPath, ...serve] : serve,
    {
      env: { ...process.env, ...serverEnv(dataDir, backend), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Killed after the test file if the test never disposes of it (test/setup/processes-per-file.ts).
  const tracked = track(child.pid, exited);

  const serverPid = async () =>
    Number((await readFile(join(dataDir, 'bucket.pid'), 'utf8')).trim());
  const url = await new Promise<string>((resolve, reject) => {
    // About 1.5 s on an idle 2-core machine; a busy one (CI beside other work) has taken over 20.
    const timer = setTimeout(
      () => reject(new Error(`server did not start in ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command ?? 'the server'}: ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    // A server that never said it listens is not left running (nor its wrapper).
    if (options.wrap)
      await serverPid()
        .then((pid) => process.kill(pid, 'SIGKILL'))
        .catch(() => {});
    child.kill('SIGKILL');
    if (child.pid !== undefined) await exited; // A command that never started has no exit.
    throw error;
  });
  if (options.wrap) tracked.add(await serverPid());
  const printed = /owner key: (bkt_\S+)/.exec(output)?.[1];
  const ownerKey =
    options.env?.['BUCKET_OWNER_KEY'] ??
    printed ??
    (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) {
      if (options.wrap) {
        process.kill(await serverPid(), signal);
      } else {
        child.kill(signal);
      }
    }
    await exited;
  };
  return {
    url,
    backend,
    dataDir,
    ownerKey,
    process: child,
    output: () => output,
    kill,
    stop: () => kill('SIGTERM'),
    async dispose() {
      await kill('SIGTERM');
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
      if (ownsBackend) await backend?.dispose();
    },
  };
}
