/** `bucket serve`: run the Bucket on the configured storage until SIGINT/SIGTERM. */
import cluster from 'node:cluster';
import { runPrimary } from '../cluster/primary.js';
import { runWorker } from '../cluster/worker.js';
import { configFromEnv } from '../config.js';
import { gateFaultFromEnv } from '../gate/fault.js';
import { cutOffStopAfterTimeout, startServer } from '../server.js';
import { eventLoopDelayFromEnv } from '../services/event-loop.js';

export async function serve(): Promise<void> {
  const config = configFromEnv();
  // Whatever the server creates is its user's alone (docs/THREAT_MODEL.md): the stores give their
  // files 0600 and folders 0700 explicitly, and the umask covers anything else it may write.
  process.umask(0o077);
  // BUCKET_WORKERS > 1: this process holds the lock and the limiter; its workers serve.
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config);
  const gate = gateFaultFromEnv(process.env);
  const eventLoopDelayMs = eventLoopDelayFromEnv(process.env);
  const hooks = { ...(gate ? { gate } : {}), ...(eventLoopDelayMs ? { eventLoopDelayMs } : {}) };
  // The primary prints for all of its workers.
  if (cluster.isWorker) return runWorker(config, hooks);
  const server = await startServer(config, hooks);
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: finishing in-flight requests, then stopping\n`);
    cutOffStopAfterTimeout(server, (line) => process.stderr.write(`${line}\n`));
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  if (server.bucket.newOwnerKey !== null) {
    // Printed once, on the first start; it is also in <dataDir>/owner.key (mode 0600).
    process.stdout.write(`owner key: ${server.bucket.newOwnerKey}\n`);
  }
  process.stdout.write(`BHIV Bucket listening on ${server.url} (data: ${config.dataDir})\n`);
  if (server.s3Url !== null) process.stdout.write(`S3 front door at ${server.s3Url}\n`);
}
