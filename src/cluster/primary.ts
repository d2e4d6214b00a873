/**
 * `bucket serve` with `BUCKET_WORKERS` > 1 (issue 21, decisions 0046, 0054): the primary process
 * holds the data directory's lock and the limiter (./limiter.ts), and runs that many worker
 * processes (node:cluster, ./worker.ts) that share the port and open the one SQLite database, each
 * a whole Bucket. The first worker starts alone (it migrates the database and makes the owner
 * key), the others after it listens. A worker that dies is started again — one that dies before
 * it listens after a growing pause, and after MAX_EARLY_DEATHS of those in a row the primary
 * stops everything and exits 1, naming the last cause. SIGINT/SIGTERM stop every worker
 * gracefully, then the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import type { BucketConfig } from '../config.js';
import { MemoryLimiter } from '../storage/memory/limiter.js';
import { lockDataDir, makeDataDir } from '../storage/data-dir-lock.js';
import { narrow, PRIVATE_DIR_MODE } from '../storage/private-files.js';
import { LimiterHost } from './limiter.js';
import { PRIMARY_PID_VARIABLE, type WorkerFailed, type WorkerReady } from './worker.js';

/** Restarts within RESTART_WINDOW_MS above which the primary gives up (a worker that cannot start). */
const MAX_RESTARTS = 10;
const RESTART_WINDOW_MS = 60_000;
/** Workers dead before they listened, one after another, at which the primary gives up. */
export const MAX_EARLY_DEATHS = 5;
/** The pause before starting another after an early death, doubled at each one in a row. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 2000;

function said<T extends { bucket: string }>(message: unknown, what: T['bucket']): message is T {
  return (message as { bucket?: unknown } | null)?.bucket === what;
}

/** Why workers are no longer started: too many died before they listened, or the primary stops. */
class NotStarted extends Error {}

export async function runPrimary(config: BucketConfig, out = process.stdout): Promise<void> {
  await makeDataDir(config.dataDir);
  await narrow(config.dataDir, PRIVATE_DIR_MODE);
  const lock = await lockDataDir(config.dataDir);
  const limiter = new LimiterHost(new MemoryLimiter(), config.workers);
  const workers = new Set<Worker>();
  let stopping = false;
  const restarts: number[] = [];
  /** Workers dead before they listened since one last did. */
  let earlyDeaths = 0;

  /** One worker listening: started again (after a pause) for as long as one dies before. */
  const start = (): Promise<WorkerReady> =>
    new Promise<WorkerReady>((resolve, reject) => {
      const attempt = () => {
        if (stopping) return reject(new NotStarted('stopping'));
        const worker = cluster.fork({ [PRIMARY_PID_VARIABLE]: String(process.pid) });
        workers.add(worker);
        let ready = false;
        let failure: string | null = null;
        worker.on('message', (message: unknown) => {
          if (said<WorkerReady>(message, 'ready')) {
            ready = true;
            earlyDeaths = 0;
            return resolve(message);
          }
          if (said<WorkerFailed>(message, 'failed')) {
            failure = message.reason;
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
          if (stopping) {
            if (!ready) reject(new NotStarted('stopping'));
            return;
          }
          if (ready) return restart(code, signal);
          earlyDeaths += 1;
          const cause = `${failure ?? 'it gave no reason'} (${signal ?? `exit code ${code}`})`;
          if (earlyDeaths >= MAX_EARLY_DEATHS) {
            return reject(
              new NotStarted(
                `workers keep dying before they listen (${earlyDeaths} in a row); the last: ` +
                  `${cause}; stopping`,
              ),
            );
          }
          const pause = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (earlyDeaths - 1));
          process.stderr.write(
            `a worker exited before it listened: ${cause}; starting another in ${pause} ms\n`,
          );
          setTimeout(attempt, pause);
        });
      };
      attempt();
    });

  const giveUp = (error: unknown) => {
    if (stopping) return;
    process.stderr.write(`${(error as Error).message}\n`);
    void stop('gave up', 1);
  };

  const restart = (code: number | null, signal: string | null) => {
    const now = Date.now();
    restarts.push(now);
    while ((restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      giveUp(new Error(`workers keep dying (${MAX_RESTARTS} restarts in a minute); stopping`));
      return;
    }
    process.stderr.write(`a worker exited (${signal ?? `code ${code}`}); starting another\n`);
    start().catch(giveUp);
  };

  let stopped: Promise<void> | null = null;
  const stop = (reason: string, exitCode = 0): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      if (exitCode === 0) out.write(`${reason}: finishing in-flight requests, then stopping\n`);
      // After the workers' own deadline, by which each has named what it cut off and exited.
      const forced = setTimeout(
        () => {
          for (const worker of workers) worker.process.kill('SIGKILL');
        },
        config.stopTimeoutSeconds * 1000 + 5_000,
      );
      forced.unref();
      // A worker whose stop cut requests off (or failed) exits 1, and so does the whole server.
      const clean = await Promise.all(
        [...workers].map(
          (worker) =>
            new Promise<boolean>((resolve) => {
              if (worker.isDead()) return resolve(true);
              worker.once('exit', (code: number | null) => resolve(code === 0));
              worker.process.kill('SIGTERM');
            }),
        ),
      );
      clearTimeout(forced);
      await lock.release();
      process.exit(clean.every(Boolean) ? exitCode : 1);
    })();
    return stopped;
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  try {
    const first = await start();
    if (first.newOwnerKey !== null) out.write(`owner key: ${first.newOwnerKey}\n`);
    await Promise.all(Array.from({ length: config.workers - 1 }, start));
    out.write(
      `BHIV Bucket listening on ${first.url} (data: ${config.dataDir}, ` +
        `${config.workers} worker processes)\n`,
    );
    if (first.s3Url !== null) out.write(`S3 front door at ${first.s3Url}\n`);
  } catch (error) {
    giveUp(error);
  }
}
