/**
 * The live certification (issue 19, SPEC §9) in-process: `GET /v1/governance/certification` over
 * a Bucket holding the profile's number of versions (1M in a full run), each request computed
 * afresh (the 10 s cache forgotten before it), p99 of the whole answer. The versions are filled
 * straight into the database (as the retention bench does), so they have no audit entries and the
 * Bucket is not certified — the timing is what is measured: no check may scan every version
 * (docs/decisions/0041).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { configFromEnv } from '../../../src/config.js';
import { startServer } from '../../../src/server.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import type { Row } from '../report.js';
import type { Suite } from '../suite.js';
import { CERTIFICATION_P99_MS } from '../targets.js';
import { fill } from './retention.js';

const REQUESTS = 200;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export const certification: Suite = {
  name: 'certification',
  async run({ profile, log }) {
    const dir = await mkdtemp(join(tmpdir(), 'bucket-bench-certification-'));
    try {
      const count = profile.auditLogSize;
      const created = new SqliteMetadataStore(join(dir, 'bucket.db'));
      await created.init();
      await created.close();
      log(`certification: ${count} versions stored`);
      fill(join(dir, 'bucket.db'), count, () => null);
      const config = configFromEnv({ BUCKET_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1' });
      const server = await startServer(config, {}, pino({ level: 'silent' }));
      try {
        const authorization = `Bearer ${server.bucket.newOwnerKey ?? ''}`;
        const times: number[] = [];
        let status = '';
        for (let n = 0; n < REQUESTS; n++) {
          server.bucket.certification.invalidate();
          const started = process.hrtime.bigint();
          const answer = await server.app.inject({
            method: 'GET',
            url: '/v1/governance/certification',
            headers: { authorization },
          });
          times.push(Number(process.hrtime.bigint() - started) / 1e6);
          if (answer.statusCode !== 200) throw new Error(`certification: ${answer.statusCode}`);
          status = (answer.json() as { status: string }).status;
        }
        const sorted = [...times].sort((a, b) => a - b);
        const label = count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1000}k`;
        const rows: Row[] = [
          {
            name: `GET /v1/governance/certification p99, computed afresh, ${label} versions`,
            unit: 'ms',
            bucket: percentile(sorted, 99),
            bare: null,
            ...(count >= 1_000_000 ? { target: CERTIFICATION_P99_MS } : {}),
            details: {
              bucket: {
                versions: count,
                requests: REQUESTS,
                p50: percentile(sorted, 50),
                p99: percentile(sorted, 99),
                status,
              },
            },
          },
        ];
        return rows;
      } finally {
        await server.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
