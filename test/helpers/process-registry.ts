/**
 * Every server process a test starts (./server-process.ts), so that none outlives its test file:
 * a test that fails or times out before its `dispose()` leaves the process here, and the file's
 * teardown (test/setup/processes-per-file.ts) kills it. Each process is also named by a file in
 * the run's directory (`BUCKET_TEST_PROCESS_DIR`, made by test/setup/processes.ts), so that the
 * run's own teardown kills what a test fork that died could not. No imports beyond Node's: every
 * test file loads it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The directory where each running test server has a file named by its pid. */
export const PROCESS_DIR_ENV = 'BUCKET_TEST_PROCESS_DIR';

interface Tracked {
  /** The pids to signal: the spawned process, and the server under it when it is a wrapper. */
  readonly pids: number[];
  /** Resolves when the spawned process has exited. */
  readonly exited: Promise<void>;
}

const running = new Set<Tracked>();

function markerOf(pid: number): string | undefined {
  const dir = process.env[PROCESS_DIR_ENV];
  return dir ? join(dir, String(pid)) : undefined;
}

/** A started process, tracked until it exits. */
export interface TrackedProcess {
  /** Tracks one more process that goes with it (the server a wrapper such as strace runs). */
  add(pid: number): void;
}

/** Tracks the spawned process `pid` until `exited` resolves. */
export function track(pid: number | undefined, exited: Promise<void>): TrackedProcess {
  // A command that never started has no pid and never exits: nothing to track.
  if (pid === undefined) return { add: () => {} };
  const entry: Tracked = { pids: [], exited };
  const markers: string[] = [];
  const add = (more: number) => {
    entry.pids.push(more);
    const marker = markerOf(more);
    if (marker) {
      writeFileSync(marker, '');
      markers.push(marker);
    }
  };
  add(pid);
  running.add(entry);
  void exited.then(() => {
    running.delete(entry);
    for (const marker of markers) rmSync(marker, { force: true });
  });
  return { add };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** How many tracked processes still run. */
export function runningCount(): number {
  return running.size;
}

/** Kills every tracked process still running and waits for each to exit; returns how many. */
export async function killLeftProcesses(): Promise<number> {
  const left = [...running];
  for (const entry of left) for (const pid of entry.pids) signal(pid, 'SIGKILL');
  await Promise.all(left.map((entry) => entry.exited));
  return left.length;
}

// A fork that exits without its teardown (an uncaught error between files) still takes its
// servers with it; the run's teardown covers a fork killed outright.
process.once('exit', () => {
  for (const entry of running) for (const pid of entry.pids) signal(pid, 'SIGKILL');
});

/**
 * The run's last resort: kills every server named in `dir` whose process is still a Bucket server
 * (a pid reused since by anything else is left alone).
 */
export function killMarkedProcesses(dir: string, names: readonly string[]): number {
  let killed = 0;
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (command.includes('bucket.js')) {
      signal(pid, 'SIGKILL');
      killed += 1;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return killed;
}
