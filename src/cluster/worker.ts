/**
 * A worker process of `bucket serve` with `BUCKET_WORKERS` > 1 (issue 21, decisions 0046, 0054):
 * a whole Bucket on the shared database, its rates and write slots the primary's (./limiter.ts).
 * It tells the primary once it listens, or why it could not start. It stops gracefully — no new requests, the ones in flight
 * answered, the stores closed — when the primary asks (SIGTERM) and, at once, when the primary is
 * gone (its IPC channel's `disconnect`: the primary died, kill -9 included).
 */
import cluster from 'node:cluster';
import { join } from 'node:path';
import type { BucketAdapters } from '../bucket-adapters.js';
import type { BucketConfig } from '../config.js';
import { cutOffStopAfterTimeout, startServer, type RunningServer } from '../server.js';
import { SqliteMetadataStore } from '../storage/sqlite/metadata.js';
import { IpcLimiter } from './limiter.js';

/** What a worker says once it listens. */
export interface WorkerReady {
  readonly bucket: 'ready';
  readonly url: string;
  /** The S3 front door's URL (shared by the workers like the API's port), or null when off. */
  readonly s3Url: string | null;
  readonly newOwnerKey: string | null;
}

/** What a worker says when it cannot start: the primary names it if it gives up. */
export interface WorkerFailed {
  readonly bucket: 'failed';
  readonly reason: string;
}

/**
 * A test-only fault (refused unless NODE_ENV=test): `die-before-ready` makes every worker fail
 * once it has started and before it says so, `die-before-ready:2,4` only the workers the primary
 * started second and fourth (`cluster.worker.id`, restarts included).
 */
export const WORKER_FAULT_ENV = 'BUCKET_TEST_WORKER_FAULT';

/** Throws the test-only fault of WORKER_FAULT_ENV if it is set for this worker. */
export function injectWorkerFault(env: NodeJS.ProcessEnv, workerId: number): void {
  const fault = env[WORKER_FAULT_ENV];
  if (fault === undefined || fault === '') return;
  if (env['NODE_ENV'] !== 'test') {
    throw new Error(`${WORKER_FAULT_ENV} is a test hook and needs NODE_ENV=test`);
  }
  const match = /^die-before-ready(?::(\d+(?:,\d+)*))?$/.exec(fault);
  if (!match) {
    throw new Error(`${WORKER_FAULT_ENV} must be die-before-ready[:<ids>], not "${fault}"`);
  }
  const ids = match[1]?.split(',').map(Number);
  if (!ids || ids.includes(workerId)) {
    throw new Error(`injected fault (${WORKER_FAULT_ENV}): worker ${workerId} dies before ready`);
  }
}

/** The variable that tells a process it is a worker, and whose lock it shares. */
export const PRIMARY_PID_VARIABLE = 'BUCKET_PRIMARY_PID';

const PRIMARY_GONE = 'primary gone';

/** One line on stderr, naming this worker: with its primary gone, no one else reports. */
function say(line: string): void {
  process.stderr.write(`worker ${process.pid}: ${line}\n`);
}

export async function runWorker(config: BucketConfig, adapters: BucketAdapters): Promise<void> {
  // Node's cluster makes a worker whose channel closes unexpectedly exit at once (code 0): the
  // requests in flight cut, the stores left open. Marked as expected, the disconnect is ours to
  // handle below.
  if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
  // A stderr whose reader is gone must not turn a graceful stop into a crash.
  process.stderr.on('error', () => {});
  let server: RunningServer | null = null;
  let stopping: string | null = null;
  let stopAskedAt = 0;

  const close = async (running: RunningServer) => {
    const gone = stopping === PRIMARY_GONE;
    if (gone) say('the primary process is gone; finishing in-flight requests, then stopping');
    cutOffStopAfterTimeout(running, say, stopAskedAt);
    try {
      await running.close();
    } catch (error) {
      say(`error while stopping: ${(error as Error).message}`);
      process.exit(1);
    }
    if (gone) say('stopped');
    process.exit(0);
  };
  const stop = (reason: string) => {
    if (stopping !== null) return;
    stopping = reason;
    stopAskedAt = Date.now();
    if (server) return void close(server);
    // Still starting, nothing in flight: without a primary it would never listen (the port is
    // the primary's), so it goes now; asked to stop, it stops as soon as it has started.
    if (reason === PRIMARY_GONE) {
      say('the primary process is gone before this worker listened; exiting');
      process.exit(1);
    }
  };
  process.once('disconnect', () => stop(PRIMARY_GONE));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  try {
    server = await startServer(config, {
      ...adapters,
      primaryPid: Number(process.env[PRIMARY_PID_VARIABLE]),
      metadata: new SqliteMetadataStore(join(config.dataDir, 'bucket.db'), { shared: true }),
      limiter: new IpcLimiter(),
    });
    injectWorkerFault(process.env, cluster.worker?.id ?? 0);
  } catch (error) {
    // Said, and told to the primary before this process exits: it names the cause if it gives up.
    const failed: WorkerFailed = { bucket: 'failed', reason: (error as Error).message };
    say(`cannot start: ${failed.reason}`);
    await new Promise<void>((resolve) => {
      if (!process.send?.(failed, undefined, undefined, () => resolve())) resolve();
    });
    process.exit(1);
  }
  if (stopping !== null) return close(server);
  const ready: WorkerReady = {
    bucket: 'ready',
    url: server.url,
    s3Url: server.s3Url,
    newOwnerKey: server.bucket.newOwnerKey,
  };
  process.send?.(ready);
}
