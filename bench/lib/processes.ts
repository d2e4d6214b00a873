/**
 * Server child processes for the bench: each server runs in its own process so the measuring
 * process (autocannon, the transfer client) never shares an event loop with it.
 */
import { spawn } from 'node:child_process';

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after a few seconds. */
  stop(): Promise<void>;
}

export interface SpawnServerOptions {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly startTimeoutMs?: number;
}

const MAX_OUTPUT = 64 * 1024;
const LISTENING = /listening on (http:\/\/\S+)/;

/** Starts `node <args>` and waits for its `listening on http://…` line. */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    // Bounded: the head (owner key, address) and the tail (the latest errors) are what matter.
    if (output.length > MAX_OUTPUT) output = `${output.slice(0, 8192)}\n…\n${output.slice(-32768)}`;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} did not start:\n${output}`));
    }, options.startTimeoutMs ?? 20_000);
    const check = () => {
      const address = LISTENING.exec(output)?.[1];
      if (address === undefined) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(address);
    };
    child.stdout.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${signal ?? code}) before listening:\n${output}`));
    });
  });
  if (child.pid === undefined) throw new Error(`${options.name} has no process id`);
  const pid = child.pid;

  return {
    pid,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    },
  };
}
