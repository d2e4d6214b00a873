/** Starting and stopping a Bucket server: `bucket serve` and the tests use this. */
import pino, { type Logger } from 'pino';
import { createBucket, type Bucket, type BucketAdapters } from './bucket.js';
import type { BucketConfig } from './config.js';
import { buildApp, type App } from './http/app.js';
import { routeTable } from './http/auth.js';
import { startS3Door, type S3Door } from './s3/door.js';

export interface RunningServer {
  readonly bucket: Bucket;
  readonly app: App;
  readonly url: string;
  /** The S3 front door's URL (SPEC §13), or null when BUCKET_S3_PORT is unset. */
  readonly s3Url: string | null;
  /** Stops accepting requests, lets in-flight ones finish, then closes the stores. */
  close(): Promise<void>;
  /** The requests both doors are answering, each as `METHOD /path (request id)`. */
  inFlight(): string[];
}

/**
 * Exits with 1 if `server` has not stopped within its `stopTimeoutSeconds` of `since` (when the
 * stop was asked: a worker still starting then stops once it has started) — a request that never
 * ends, a client uploading slowly — first saying which requests were still in flight: their
 * clients get no answer, so the operator learns of them here. The timer keeps nothing alive: a
 * stop that finishes exits before it.
 */
export function cutOffStopAfterTimeout(
  server: RunningServer,
  say: (line: string) => void,
  since = Date.now(),
): NodeJS.Timeout {
  const seconds = server.bucket.config.stopTimeoutSeconds;
  const timer = setTimeout(
    () => {
      const cut = server.inFlight();
      const named =
        cut.slice(0, 20).join(', ') + (cut.length > 20 ? `, and ${cut.length - 20} more` : '');
      say(
        `stopping took over ${seconds} s (BUCKET_STOP_TIMEOUT_S): exiting with ${cut.length} ` +
          `request(s) unanswered${cut.length > 0 ? `: ${named}` : ''}`,
      );
      process.exit(1);
    },
    Math.max(0, since + seconds * 1000 - Date.now()),
  );
  timer.unref();
  return timer;
}

export function createLogger(level: string): Logger {
  // Authorization headers never reach the logs: requests are logged by hand, without headers.
  return pino({ level, base: null, redact: ['req.headers.authorization', 'key'] });
}

export async function startServer(
  config: BucketConfig,
  adapters: BucketAdapters = {},
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  const bucket = await createBucket(config, adapters);
  let app: App;
  let s3: S3Door | null = null;
  try {
    app = await buildApp(bucket, logger);
    await app.ready();
    // Drift (SPEC §9): the baseline needs the route table, known once every route is registered.
    const drift = await bucket.drift.start(routeTable(app.gateBindings));
    if (drift.status === 'drifted') logger.error({ drift: drift.checks }, 'drift detected');
    await app.listen({ host: config.host, port: config.port });
    if (config.s3Port !== null) s3 = await startS3Door(bucket, logger, config.host, config.s3Port);
  } catch (error) {
    await s3?.close();
    await bucket.close();
    throw error;
  }
  // Orphan contents are swept in the background: at start (after a short delay) and hourly.
  bucket.sweeper.start((result) => {
    if (result instanceof Error)
      logger.warn({ err: result.message }, 'orphan content sweep failed');
    else logger.info(result, 'orphan contents removed');
  });
  // The retention sweep (SPEC §8) every BUCKET_RETENTION_SWEEP_MINUTES; one node at a time.
  bucket.retentionSweep.start((report) => {
    if (report instanceof Error) logger.warn({ err: report.message }, 'retention sweep failed');
    else logger.info({ purged: report.purged.length, kept: report.kept }, 'retention sweep');
  });
  // The integrity scrub (SPEC §9) every BUCKET_SCRUB_HOURS; one node at a time.
  bucket.scrub.start((outcome) => {
    if (outcome instanceof Error) logger.warn({ err: outcome.message }, 'scrub failed to run');
    else logger.info({ id: outcome.id }, 'scheduled scrub started');
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;
  return {
    bucket,
    app,
    url: `http://${host}:${port}`,
    s3Url: s3?.url ?? null,
    inFlight: () => [...app.inFlight.describe(), ...(s3?.inFlight() ?? [])],
    close() {
      closing ??= (async () => {
        // Both doors stop taking requests at once; the stores close once both have drained.
        await Promise.all([s3?.close(), app.close()]);
        await bucket.close();
      })();
      return closing;
    },
  };
}
