/**
 * `bucket serve` with `BUCKET_WORKERS` > 1 (issue 21, decision 0046): the primary process holds
 * the data directory's lock and the limiter (./limiter.ts), and runs that many worker processes
 * (node:cluster) that share the port and open the one SQLite database, each a whole Bucket. The
 * first worker starts alone (it migrates the database and makes the owner key), the others after
 * it listens. A worker that dies is started again; SIGINT/SIGTERM stop every worker gracefully,
 * then the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import type { BucketConfig } from '../config.js';
import { MemoryLimiter } from '../storage/memory/limiter.js';
import { lockDataDir, makeDataDir } from '../storage/data-dir-lock.js';
import { narrow, PRIVATE_DIR_MODE } from '../storage/private-files.js';
import { LimiterHost } from './limiter.js';
import { PRIMARY_PID_VARIABLE, STOP_TIMEOUT_MS, type WorkerReady } from './worker.js';

/** Restarts within RESTART_WINDOW_MS above which the primary gives up (a worker that cannot start). */
const MAX_RESTARTS = 10;
const RESTART_WINDOW_MS = 60_000;

function isReady(message: unknown): message is WorkerReady {
  return (message as { bucket?: unknown } | null)?.bucket === 'ready';
}

export async function runPrimary(config: BucketConfig, out = process.stdout): Promise<void> {
  await makeDataDir(config.dataDir);
  await narrow(config.dataDir, PRIVATE_DIR_MODE);
  const lock = await lockDataDir(config.dataDir);
  const limiter = new LimiterHost(new MemoryLimiter(), config.workers);
  const workers = new Set<Worker>();
  let stopping = false;
  const restarts: number[] = [];

  const fork = (): Promise<WorkerReady> => {
    const worker = cluster.fork({ [PRIMARY_PID_VARIABLE]: String(process.pid) });
    workers.add(worker);
    return new Promise<WorkerReady>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: unknown) => {
        if (isReady(message)) {
          ready = true;
          resolve(message);
          return;
        }
        void limiter.handle(worker.id, message, (answer) => {
          // A worker gone meanwhile gets no answer; the error goes to the callback, not a crash.
          if (worker.isConnected()) worker.send(answer, undefined, undefined, () => {});
        });
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        limiter.forget(worker.id);
        if (!ready) reject(new Error(`a worker exited before it listened (${signal ?? code})`));
        if (stopping) return;
        if (ready) restart(code, signal);
      });
    });
  };

  const restart = (code: number | null, signal: string | null) => {
    const now = Date.now();
    restarts.push(now);
    while ((restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      process.stderr.write(`workers keep dying (${MAX_RESTARTS} restarts in a minute); stopping\n`);
      void stop('restarts', 1);
      return;
    }
    process.stderr.write(`a worker exited (${signal ?? `code ${code}`}); starting another\n`);
    fork().catch((error: Error) => process.stderr.write(`${error.message}\n`));
  };

  let stopped: Promise<void> | null = null;
  const stop = (reason: string, exitCode = 0): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      if (reason !== 'restarts') {
        out.write(`${reason}: finishing in-flight requests, then stopping\n`);
      }
      const forced = setTimeout(() => {
        for (const worker of workers) worker.process.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      forced.unref();
      await Promise.all(
        [...workers].map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              worker.once('exit', () => resolve());
              worker.process.kill('SIGTERM');
            }),
        ),
      );
      clearTimeout(forced);
      await lock.release();
      process.exit(exitCode);
    })();
    return stopped;
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  try {
    const first = await fork();
    if (first.newOwnerKey !== null) out.write(`owner key: ${first.newOwnerKey}\n`);
    await Promise.all(Array.from({ length: config.workers - 1 }, fork));
    out.write(
      `BHIV Bucket listening on ${first.url} (data: ${config.dataDir}, ` +
        `${config.workers} worker processes)\n`,
    );
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await stop('start failed', 1);
  }
}
