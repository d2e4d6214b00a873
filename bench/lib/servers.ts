/** The two servers of a bench run: the Bucket on a fresh data directory, and the bare Fastify. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from './processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where the load goes: the bench never leaves the loopback interface. */
const HOST = '127.0.0.1';

/** The write-once binary class the bench writes to (SPEC §2: ai_avatar may CREATE and READ it). */
export const BENCH_PRODUCT = 'ai_avatar';
export const BENCH_CLASS = 'model_checkpoint';

/** The S3 front door of a Bucket under test, and an S3 credential of its product key. */
export interface S3UnderTest {
  readonly url: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface BucketUnderTest {
  readonly server: ServerProcess;
  /** `Authorization` value of a product key for BENCH_PRODUCT. */
  readonly authorization: string;
  /** Its S3 door (SPEC §13) with a credential of the product key; null for a joining node. */
  readonly s3: S3UnderTest | null;
  /** Stops the server and removes its data directory. */
  dispose(): Promise<void>;
}

export async function startBare(): Promise<ServerProcess> {
  return spawnServer({
    name: 'bare Fastify',
    args: ['--import', 'tsx', join(REPO_ROOT, 'bench', 'bare-server.ts')],
    env: { HOST },
    cwd: REPO_ROOT,
  });
}

/**
 * `node bin/bucket.js serve` on a new temporary data directory, with a product key created; `bin`
 * names another build's launcher (to compare two builds on the same machine).
 */
export async function startBucket(
  bin = join(REPO_ROOT, 'bin', 'bucket.js'),
): Promise<BucketUnderTest> {
  return startBucketProcess('Bucket', [...nodeFlags(), bin, 'serve']);
}

/** `bucket serve` with BUCKET_WORKERS (issue 21): a primary and `workers` worker processes. */
export async function startWorkersBucket(workers: number): Promise<BucketUnderTest> {
  return startBucketProcess(
    `Bucket (${workers} workers)`,
    [...nodeFlags(), join(REPO_ROOT, 'bin', 'bucket.js'), 'serve'],
    { BUCKET_WORKERS: String(workers) },
  );
}

/**
 * `BENCH_BUCKET_NODE_FLAGS`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: Node flags for the
 * Bucket's process, to profile it under the bench's load (docs/PERFORMANCE.md).
 */
function nodeFlags(): string[] {
  return (process.env['BENCH_BUCKET_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The Bucket with the bench-only no-op gate (bench/noop-gate-server.ts), set up like
 * `startBucket`: same configuration, a fresh data directory, a product key.
 */
export async function startNoopGateBucket(): Promise<BucketUnderTest> {
  return startBucketProcess('Bucket (no-op gate)', [
    '--import',
    'tsx',
    join(REPO_ROOT, 'bench', 'noop-gate-server.ts'),
  ]);
}

/**
 * The Bucket without its event outbox (bench/no-outbox-server.ts), set up like `startBucket`:
 * the "without" of the outbox's cost.
 */
export async function startNoOutboxBucket(): Promise<BucketUnderTest> {
  return startBucketProcess('Bucket (no outbox)', [
    '--import',
    'tsx',
    join(REPO_ROOT, 'bench', 'no-outbox-server.ts'),
  ]);
}

/** Buckets not disposed yet, so that an interrupted run can still remove their data directories. */
const running = new Set<() => Promise<void>>();

export async function disposeRunningBuckets(): Promise<void> {
  await Promise.all([...running].map((dispose) => dispose()));
}

/**
 * A node of a scale-out Bucket (PostgreSQL + S3 + Redis in `env`). The first node sets the Bucket
 * up (rates, a product key); a later one is given the owner key and that product key.
 */
export async function startScaleOutNode(
  name: string,
  env: Readonly<Record<string, string>>,
  joining?: { ownerKey: string; authorization: string },
): Promise<BucketUnderTest & { ownerKey: string }> {
  const args = [...nodeFlags(), join(REPO_ROOT, 'bin', 'bucket.js'), 'serve'];
  const extra = joining ? { ...env, BUCKET_OWNER_KEY: joining.ownerKey } : env;
  const node = await startBucketProcess(name, args, extra, joining?.authorization);
  const ownerKey = joining?.ownerKey ?? /owner key: (bkt_\S+)/.exec(node.server.output())?.[1];
  if (ownerKey === undefined) throw new Error(`${name} printed no owner key`);
  return { ...node, ownerKey };
}

async function startBucketProcess(
  name: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  /** A node joining a Bucket already set up: its product key, and no set-up of its own. */
  joiningAuthorization?: string,
): Promise<BucketUnderTest> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bucket-bench-'));
  const removeDataDir = () => rm(dataDir, { recursive: true, force: true });
  let server: ServerProcess;
  try {
    server = await spawnServer({
      name,
      args,
      env: {
        BUCKET_S3_PORT: '0',
        ...env,
        BUCKET_DATA_DIR: dataDir,
        PORT: '0',
        HOST,
        BUCKET_LOG_LEVEL: 'warn',
      },
      cwd: REPO_ROOT,
    });
  } catch (error) {
    await removeDataDir();
    throw error;
  }
  let disposing: Promise<void> | null = null;
  const dispose = () => {
    disposing ??= (async () => {
      await server.stop();
      await removeDataDir();
      running.delete(dispose);
    })();
    return disposing;
  };
  running.add(dispose);
  if (joiningAuthorization !== undefined) {
    return { server, authorization: joiningAuthorization, s3: null, dispose };
  }
  try {
    const ownerKey = /owner key: (bkt_\S+)/.exec(server.output())?.[1];
    if (ownerKey === undefined)
      throw new Error(`${name} printed no owner key:\n${server.output()}`);
    await raiseRateLimits(server.url, ownerKey);
    const productKey = await createProductKey(server.url, ownerKey);
    const s3Url = /S3 front door at (http:\/\/\S+)/.exec(server.output())?.[1];
    const s3 = s3Url ? await s3Credential(server.url, ownerKey, productKey.id, s3Url) : null;
    return { server, authorization: `Bearer ${productKey.key}`, s3, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Rates the bench never reaches: the 1 KiB rows measure the Bucket, not the default limiter. */
export const BENCH_RATE_LIMIT = 100_000_000;

/**
 * Raises `writesPerSecond` and `readsPerSecond` through the policy API (SPEC §2.3 defaults are
 * 1,000 and 10,000 a second, which a 1 KiB PUT run would otherwise measure instead of the Bucket),
 * and lets the bench's one product use every write slot (`productWriteShare` 0.5 would give its 50
 * connections exactly its share, and refuse a write made while the last run's slots drain).
 */
async function raiseRateLimits(url: string, ownerKey: string): Promise<void> {
  const headers = { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' };
  const current = await fetch(`${url}/v1/governance/policy`, { headers });
  const text = await current.text();
  if (current.status !== 200) throw new Error(`policy: ${current.status} ${text}`);
  const { document } = JSON.parse(text) as {
    document: { limits: Record<string, number> } & Record<string, unknown>;
  };
  document.limits['writesPerSecond'] = BENCH_RATE_LIMIT;
  document.limits['readsPerSecond'] = BENCH_RATE_LIMIT;
  document.limits['productWriteShare'] = 1;
  const response = await fetch(`${url}/v1/governance/policy`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ document, reason: 'bench: rates out of the way of the measurement' }),
  });
  if (response.status !== 200) {
    throw new Error(`raising the rate limits: ${response.status} ${await response.text()}`);
  }
}

/** SPEC §1: a product key names an approved integration of its product; the bench approves one. */
async function approveIntegration(url: string, ownerKey: string): Promise<string> {
  const integrationId = 'bench';
  const response = await fetch(`${url}/governance/gate/validate-integration`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      integrationId,
      integrationType: 'api_client',
      productName: BENCH_PRODUCT,
      artifactClasses: [BENCH_CLASS],
      dataSchema: { content_filter: 'none needed (bench)', retention_policy: 'class retention' },
    }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`integration: ${response.status} ${text}`);
  return integrationId;
}

async function createProductKey(
  url: string,
  ownerKey: string,
): Promise<{ key: string; id: string }> {
  const integrationId = await approveIntegration(url, ownerKey);
  const response = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'product', product: BENCH_PRODUCT, integrationId, name: 'bench' }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`key creation: ${response.status} ${text}`);
  const { key, id } = JSON.parse(text) as { key?: unknown; id?: unknown };
  if (typeof key !== 'string' || typeof id !== 'string') {
    throw new Error(`key creation answered no key: ${text}`);
  }
  return { key, id };
}

/** An S3 credential of the product key `keyId` (SPEC §13), for the S3 door at `s3Url`. */
async function s3Credential(
  url: string,
  ownerKey: string,
  keyId: string,
  s3Url: string,
): Promise<S3UnderTest> {
  const response = await fetch(`${url}/v1/keys/${keyId}/s3-credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerKey}` },
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`S3 credential: ${response.status} ${text}`);
  const { accessKeyId, secretAccessKey } = JSON.parse(text) as S3UnderTest;
  return { url: s3Url, accessKeyId, secretAccessKey };
}

/** The path of an artifact of the bench class, or the same path on the bare server. */
export function artifactPath(name: string): string {
  return `/v1/artifacts/${BENCH_PRODUCT}/${BENCH_CLASS}/${name}`;
}
