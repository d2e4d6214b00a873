/** Configuration from the environment (SPEC §12, pinned names). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface BucketConfig {
  /** `BUCKET_DATA_DIR`, default `./data`. */
  readonly dataDir: string;
  /** `HOST`, default 127.0.0.1. */
  readonly host: string;
  /** `PORT`, default 8080 (0 picks a free port). */
  readonly port: number;
  /** `BUCKET_S3_PORT`: the S3 front door's port on `HOST` (SPEC §13); null (unset) keeps it off. */
  readonly s3Port: number | null;
  /** `BUCKET_OWNER_KEY`: the owner key, instead of a generated one. */
  readonly ownerKey: string | undefined;
  /** `BUCKET_LOG_LEVEL`, default info (`silent` turns request logs off). */
  readonly logLevel: string;
  /** `BUCKET_INLINE_MAX_BYTES`: contents up to this size live in the metadata store (64 KiB). */
  readonly inlineMaxBytes: number;
  /** Seconds a connection may stay idle mid-request before it is closed (`BUCKET_IDLE_TIMEOUT_S`). */
  readonly idleTimeoutSeconds: number;
  /**
   * Seconds a stop (SIGTERM, SIGINT) waits for the requests in flight before it exits anyway,
   * naming them (`BUCKET_STOP_TIMEOUT_S`).
   */
  readonly stopTimeoutSeconds: number;
  /** `BUCKET_AUDIT_KEY_FILE`: the checkpoint signing key; default `<dataDir>/audit-signing.pem`. */
  readonly auditKeyFile: string | undefined;
  /** `BUCKET_AUDIT_ORIGIN`: the checkpoint origin; default `bhiv-bucket/<installation id>`. */
  readonly auditOrigin: string | undefined;
  /** `BUCKET_MASTER_KEY_FILE`: the key-encryption key; default `<dataDir>/master.key`. */
  readonly masterKeyFile: string | undefined;
  /** `BUCKET_DATABASE_URL=postgres://…`: metadata, audit and events in PostgreSQL (scale-out). */
  readonly databaseUrl: string | undefined;
  /** `BUCKET_BLOB_URL=s3://<bucket>?endpoint=…&region=…&forcePathStyle=true`: contents in S3. */
  readonly blobUrl: string | undefined;
  /** `BUCKET_REDIS_URL=redis://…[?keyPrefix=…]`: rates, write slots, brute-force counters. */
  readonly redisUrl: string | undefined;
  /** `BUCKET_RETENTION_SWEEP_MINUTES`: between scheduled retention sweeps (SPEC §8), default 60. */
  readonly retentionSweepIntervalMs: number;
  /** `BUCKET_SCRUB_HOURS`: between scheduled integrity scrubs (SPEC §9), default 24. */
  readonly scrubIntervalMs: number;
  /**
   * `BUCKET_WORKERS`: server processes over the one data directory (issue 21, decision 0046),
   * default 1; embedded only (scale-out runs more nodes instead).
   */
  readonly workers: number;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min}, not "${raw}"`);
  }
  return value;
}

/** A scale-out URL: unset, or parseable with one of `protocols` (SPEC §12). */
function backendUrl(
  env: NodeJS.ProcessEnv,
  name: string,
  protocols: readonly string[],
  example: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL; expected the form ${example}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, e.g. ${example}`,
    );
  }
  return raw;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BucketConfig {
  const databaseUrl = backendUrl(
    env,
    'BUCKET_DATABASE_URL',
    ['postgres:', 'postgresql:'],
    'postgres://user@host:5432/bucket',
  );
  const blobUrl = backendUrl(
    env,
    'BUCKET_BLOB_URL',
    ['s3:'],
    's3://bucket?endpoint=http://host:9000&region=us-east-1&forcePathStyle=true',
  );
  const redisUrl = backendUrl(env, 'BUCKET_REDIS_URL', ['redis:', 'rediss:'], 'redis://host:6379');
  if (databaseUrl !== undefined && !env['BUCKET_AUDIT_KEY_FILE']) {
    // Every node signs checkpoints of the one shared tree: with a key of its own each, no
    // verifier could check them all (SPEC §6).
    throw new ConfigError(
      'BUCKET_DATABASE_URL is set: set BUCKET_AUDIT_KEY_FILE to the audit signing key every ' +
        'node shares (an Ed25519 PEM; `openssl genpkey -algorithm ed25519` makes one)',
    );
  }
  const ownerKey = env['BUCKET_OWNER_KEY'];
  if (ownerKey !== undefined && ownerKey.length < 16) {
    throw new ConfigError('BUCKET_OWNER_KEY must have at least 16 characters');
  }
  const auditOrigin = env['BUCKET_AUDIT_ORIGIN'] || undefined;
  if (auditOrigin !== undefined && !/^[^\s+]+$/u.test(auditOrigin)) {
    throw new ConfigError(
      `BUCKET_AUDIT_ORIGIN must be a signed-note key name (no spaces, no "+"), not "${auditOrigin}"`,
    );
  }
  const workers = integer(env, 'BUCKET_WORKERS', 1, 1);
  if (workers > 1 && (databaseUrl !== undefined || redisUrl !== undefined)) {
    throw new ConfigError(
      'BUCKET_WORKERS is for the embedded configuration; a scale-out Bucket runs more nodes ' +
        'instead (unset BUCKET_WORKERS or set it to 1)',
    );
  }
  const auditKeyFile = env['BUCKET_AUDIT_KEY_FILE'];
  const masterKeyFile = env['BUCKET_MASTER_KEY_FILE'];
  return {
    dataDir: resolve(env['BUCKET_DATA_DIR'] || './data'),
    host: env['HOST'] || '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0),
    s3Port: env['BUCKET_S3_PORT'] ? integer(env, 'BUCKET_S3_PORT', 0, 0) : null,
    ownerKey: ownerKey || undefined,
    logLevel: env['BUCKET_LOG_LEVEL'] || 'info',
    inlineMaxBytes: integer(env, 'BUCKET_INLINE_MAX_BYTES', 64 * 1024, 0),
    idleTimeoutSeconds: integer(env, 'BUCKET_IDLE_TIMEOUT_S', 120, 1),
    stopTimeoutSeconds: integer(env, 'BUCKET_STOP_TIMEOUT_S', 30, 1),
    auditKeyFile: auditKeyFile ? resolve(auditKeyFile) : undefined,
    auditOrigin,
    masterKeyFile: masterKeyFile ? resolve(masterKeyFile) : undefined,
    databaseUrl,
    blobUrl,
    redisUrl,
    retentionSweepIntervalMs: integer(env, 'BUCKET_RETENTION_SWEEP_MINUTES', 60, 1) * 60_000,
    scrubIntervalMs: integer(env, 'BUCKET_SCRUB_HOURS', 24, 1) * 3_600_000,
    workers,
  };
}

/** The package version, for `/health` and `--version`. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
