/**
 * The 1 KiB requests again, against a Bucket of two worker processes over one data directory
 * (BUCKET_WORKERS=2, issue 21, decision 0046), beside bare Fastify in the same rounds. CPU per
 * request counts the primary and both workers.
 */
import type { Row } from '../report.js';
import { startWorkersBucket } from '../servers.js';
import type { Suite } from '../suite.js';
import { smallRequests } from './small-requests.js';

const WORKERS = 2;

export const workers: Suite = {
  name: 'workers',
  async run(context) {
    const bucket = await startWorkersBucket(WORKERS);
    await context.processes.track(bucket.server.pid);
    try {
      const rows: Row[] = await smallRequests.run({ ...context, bucket });
      return rows.map((row) => ({ ...row, name: `${row.name}, ${WORKERS} workers` }));
    } finally {
      await context.processes.untrack(bucket.server.pid);
      await bucket.dispose();
    }
  },
};
