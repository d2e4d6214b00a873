/**
 * The real services the scale-out tests use (PostgreSQL, Redis on loopback). Unreachable → the
 * tests that need one are skipped with the reason, except under `CI=true`, where they fail: a
 * skipped backend must never pass for green (`.ci/run` starts the services first).
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';

export const POSTGRES_ADMIN_URL =
  process.env['BUCKET_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env['BUCKET_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const CI = process.env['CI'] === 'true';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether `service` answers; under CI an unreachable service throws instead of answering false,
 * so the suite fails rather than skips.
 */
export async function serviceAvailable(service: 'postgres' | 'redis'): Promise<boolean> {
  const url = new URL(service === 'postgres' ? POSTGRES_ADMIN_URL : REDIS_URL);
  const ok = await reachable(
    url.hostname,
    Number(url.port || (service === 'postgres' ? 5432 : 6379)),
  );
  if (!ok && CI)
    throw new Error(`${service} is unreachable at ${url.host} (CI=true: not skipping)`);
  return ok;
}

/** Creates the database `name` (empty) and answers its URL. */
export async function createDatabase(name: string): Promise<string> {
  // Imported here: this module is loaded by every test file, most of which never need pg.
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, empty database of its own; `drop` removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bucket_test_${randomBytes(6).toString('hex')}`;
  const url = await createDatabase(name);
  const { default: pg } = await import('pg');
  return {
    url,
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Redis key prefix of its own, so that concurrent test runs never share counters. */
export function testRedisPrefix(): string {
  return `bucket-test:${randomBytes(6).toString('hex')}:`;
}
