/**
 * Vitest global set-up for the scale-out run (`BUCKET_TEST_BACKEND=scaleout`, see
 * `npm run test:scaleout`): one S3-compatible server (the npm package s3rver) on loopback for the
 * whole run; one PostgreSQL database migrated by the store's own `migrate`, which every test
 * server's database is a copy of (test/helpers/scaleout.ts); and, at the end, the removal of every
 * database and Redis key the run created. The embedded run needs none of it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrate } from '../../src/storage/postgres/migrations.js';
import { S3RVER_ENV, startS3 } from '../helpers/s3.js';
import { POSTGRES_TEMPLATE_ENV } from '../helpers/scaleout.js';
import {
  createDatabase,
  POSTGRES_ADMIN_URL,
  REDIS_URL,
  serviceAvailable,
} from '../helpers/services.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env['BUCKET_TEST_BACKEND'] !== 'scaleout') return undefined;
  // The scale-out run has no embedded fallback: both services must answer (CI or not).
  for (const service of ['postgres', 'redis'] as const) {
    if (!(await serviceAvailable(service))) {
      throw new Error(`the scale-out test run needs ${service}; start it (see .ci/run)`);
    }
  }
  const runId = randomBytes(4).toString('hex');
  const s3 = await startS3();
  process.env['BUCKET_TEST_RUN_ID'] = runId;
  process.env['BUCKET_TEST_S3_ENDPOINT'] = s3.endpoint;
  process.env[POSTGRES_TEMPLATE_ENV] = await migratedTemplate(`bucket_test_${runId}_template`);
  for (const [name, value] of Object.entries(S3RVER_ENV)) process.env[name] ??= value;

  return async () => {
    await s3.stop();
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`bucket_test_${runId}_%`],
      );
      for (const { datname } of rows) {
        await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      }
    } finally {
      await admin.end();
    }
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`bucket-test:${runId}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  };
}

/** Creates `name` and brings it to this code's schema; no connection to it is left open. */
async function migratedTemplate(name: string): Promise<string> {
  const pool = new pg.Pool({ connectionString: await createDatabase(name), max: 1 });
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
  return name;
}
