/**
 * Starting and stopping the S3 front door (SPEC §13) beside the native listener: its listener on
 * HOST:BUCKET_S3_PORT, and the hourly removal of multipart uploads abandoned for 24 h.
 */
import type { Logger } from 'pino';
import type { Bucket } from '../bucket.js';
import { sweepStaleUploads } from './multipart.js';
import { buildS3App } from './server.js';

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export interface S3Door {
  readonly url: string;
  /** The requests it is answering, each as `METHOD /path (request id)`. */
  inFlight(): string[];
  close(): Promise<void>;
}

export async function startS3Door(
  bucket: Bucket,
  logger: Logger,
  host: string,
  port: number,
): Promise<S3Door> {
  const { app } = await buildS3App(bucket, logger);
  await app.listen({ host, port });
  const sweep = () => {
    sweepStaleUploads(bucket).then(
      (removed) => {
        if (removed > 0) logger.info({ removed }, 'abandoned multipart uploads removed');
      },
      (error: Error) => logger.warn({ err: error.message }, 'multipart upload sweep failed'),
    );
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}`,
    inFlight: () => app.inFlight.describe(),
    async close() {
      clearInterval(timer);
      await app.close();
    },
  };
}
