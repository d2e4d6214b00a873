/**
 * The scale-out configuration of a test server (`BUCKET_TEST_BACKEND=scaleout`): a PostgreSQL
 * database, an S3 bucket on the run's s3rver and a Redis key prefix of its own, and an audit
 * signing key file — the shared stores of issue 6. Several servers given the same backend are
 * nodes of one Bucket.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3RVER_ENV } from './s3.js';
import { POSTGRES_ADMIN_URL, REDIS_URL } from './services.js';

export const SCALE_OUT = process.env['BUCKET_TEST_BACKEND'] === 'scaleout';

export interface ScaleOutBackend {
  /** The environment of every node: BUCKET_DATABASE_URL, _BLOB_URL, _REDIS_URL, _AUDIT_KEY_FILE. */
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

const BACKEND_FILE = 'scaleout-backend.json';

/**
 * The run's migrated PostgreSQL database (test/setup/scaleout.ts), copied for a test server's
 * implicit backend: a copy costs a fraction of creating and migrating one. Unset outside a
 * scale-out run.
 */
export const POSTGRES_TEMPLATE_ENV = 'BUCKET_TEST_POSTGRES_TEMPLATE';

/**
 * A backend on the run's s3rver (the global set-up of a scale-out run), or on `s3Endpoint` — a
 * test that needs several nodes in any run starts its own s3rver (test/helpers/s3.ts). Its
 * database is empty — the nodes' first start creates the schema, together — unless `migrated`,
 * when it is a copy of the run's migrated template (the first start then finds it current).
 */
export async function createScaleOutBackend(
  s3Endpoint?: string,
  { migrated = false }: { readonly migrated?: boolean } = {},
): Promise<ScaleOutBackend> {
  const run = process.env['BUCKET_TEST_RUN_ID'] ?? 'solo';
  const endpoint = s3Endpoint ?? process.env['BUCKET_TEST_S3_ENDPOINT'];
  if (!endpoint) {
    throw new Error('the scale-out backend needs an s3rver (test/setup/scaleout.ts or startS3)');
  }
  // Imported here, not at the top: every test file imports this module through server.ts, and
  // the embedded run would load the AWS SDK and pg for nothing.
  const [{ default: pg }, { CreateBucketCommand, S3Client }] = await Promise.all([
    import('pg'),
    import('@aws-sdk/client-s3'),
  ]);
  const name = `${run}_${randomBytes(5).toString('hex')}`;
  const database = `bucket_test_${name}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    const template = migrated ? process.env[POSTGRES_TEMPLATE_ENV] : undefined;
    await admin.query(`CREATE DATABASE ${database}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  const bucket = `bkt-${name.replace(/_/g, '-')}`;
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
  const keyDir = await mkdtemp(join(tmpdir(), 'bucket-audit-key-'));
  const keyFile = join(keyDir, 'audit-signing.pem');
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const databaseUrl = new URL(POSTGRES_ADMIN_URL);
  databaseUrl.pathname = `/${database}`;
  const redisUrl = new URL(REDIS_URL);
  redisUrl.searchParams.set('keyPrefix', `bucket-test:${run}:${name}:`);
  const env = {
    BUCKET_DATABASE_URL: databaseUrl.toString(),
    BUCKET_BLOB_URL: `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&forcePathStyle=true`,
    BUCKET_REDIS_URL: redisUrl.toString(),
    BUCKET_AUDIT_KEY_FILE: keyFile,
    // Every node is given the same key-encryption key (SPEC §8); the first start creates it.
    BUCKET_MASTER_KEY_FILE: join(keyDir, 'master.key'),
    ...S3RVER_ENV,
  };
  return {
    env,
    async dispose() {
      // Databases and Redis keys are also removed by the global teardown, whatever a test left.
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await client.end();
      }
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}

/** Remembers a node's backend in its data directory, so that a restart finds the same stores. */
export async function saveBackend(dataDir: string, backend: ScaleOutBackend): Promise<void> {
  await writeFile(join(dataDir, BACKEND_FILE), JSON.stringify(backend.env), { mode: 0o600 });
}

/** The backend a data directory's earlier server used, if any. */
export async function savedBackendEnv(dataDir: string): Promise<Record<string, string> | null> {
  try {
    return JSON.parse(await readFile(join(dataDir, BACKEND_FILE), 'utf8')) as Record<
      string,
      string
    >;
  } catch {
    return null;
  }
}

/**
 * The backend a test server starts on: `options.backend`, else (scale-out runs) the one its data
 * directory had, else a new one the server owns; null in the embedded run. Saved in the data
 * directory, so that a restart finds the same stores.
 */
export async function backendFor(
  dataDir: string,
  options: { readonly dataDir?: string; readonly backend?: ScaleOutBackend },
): Promise<{ backend: ScaleOutBackend | null; ownsBackend: boolean }> {
  let backend: ScaleOutBackend | null = options.backend ?? null;
  let ownsBackend = false;
  if (SCALE_OUT && !backend) {
    const saved = options.dataDir ? await savedBackendEnv(dataDir) : null;
    if (saved) {
      backend = { env: saved, dispose: async () => {} };
    } else {
      // The schema's creation on an empty database, nodes migrating together, is what the
      // multi-node tests' own backends and the PostgreSQL store suites exercise.
      backend = await createScaleOutBackend(undefined, { migrated: true });
      ownsBackend = true;
    }
  }
  if (backend) await saveBackend(dataDir, backend);
  return { backend, ownsBackend };
}
