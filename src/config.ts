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

/** One environment variable the server reads: its name, default and meaning. */
export interface ServerVariable {
  readonly name: string;
  readonly fallback: string;
  readonly meaning: string;
}

/**
 * Every environment variable `bucket serve` reads (SPEC §12 names), in one place: `bucket serve
 * --help` prints it, and test/unit/config-variables.test.ts holds src/, the README and
 * docs/OPERATIONS.md to it.
 */
export const SERVER_VARIABLES: readonly ServerVariable[] = [
  { name: 'BUCKET_DATA_DIR', fallback: './data', meaning: 'bucket.db, blobs/, owner.key' },
  { name: 'HOST', fallback: '127.0.0.1', meaning: 'listening address' },
  { name: 'PORT', fallback: '8080', meaning: 'listening port (0 picks a free one)' },
  { name: 'BUCKET_S3_PORT', fallback: 'off', meaning: 'the S3 front door on HOST (docs/S3.md)' },
  { name: 'BUCKET_OWNER_KEY', fallback: 'generated', meaning: 'the owner key (≥ 16 characters)' },
  { name: 'BUCKET_LOG_LEVEL', fallback: 'info', meaning: 'pino level (silent: no request lines)' },
  { name: 'BUCKET_WORKERS', fallback: '1', meaning: 'server processes (embedded only)' },
  {
    name: 'BUCKET_INLINE_MAX_BYTES',
    fallback: '65536',
    meaning: 'contents up to this size kept in the database',
  },
  {
    name: 'BUCKET_IDLE_TIMEOUT_S',
    fallback: '120',
    meaning: 'a connection idle this long mid-request is closed',
  },
  {
    name: 'BUCKET_STOP_TIMEOUT_S',
    fallback: '30',
    meaning: 'a stop waits this long for requests in flight, then exits 1 naming them',
  },
  {
    name: 'BUCKET_AUDIT_KEY_FILE',
    fallback: '<dataDir>/audit-signing.pem',
    meaning: 'Ed25519 key signing audit checkpoints',
  },
  {
    name: 'BUCKET_AUDIT_ORIGIN',
    fallback: 'bhiv-bucket/<id>',
    meaning: 'checkpoint origin (no spaces, no +)',
  },
  {
    name: 'BUCKET_MASTER_KEY_FILE',
    fallback: '<dataDir>/master.key',
    meaning: 'key-encryption key (subject keys, S3 and webhook secrets)',
  },
  {
    name: 'BUCKET_RETENTION_SWEEP_MINUTES',
    fallback: '60',
    meaning: 'between scheduled retention sweeps',
  },
  { name: 'BUCKET_SCRUB_HOURS', fallback: '24', meaning: 'between scheduled integrity scrubs' },
  { name: 'BUCKET_DATABASE_URL', fallback: '-', meaning: 'postgres://… (scale-out metadata)' },
  { name: 'BUCKET_BLOB_URL', fallback: '-', meaning: 's3://<bucket>?endpoint=… (scale-out blobs)' },
  { name: 'BUCKET_REDIS_URL', fallback: '-', meaning: 'redis://… (scale-out rates and slots)' },
  {
    name: 'AWS_*',
    fallback: '-',
    meaning: "BUCKET_BLOB_URL's credentials: AWS_ACCESS_KEY_ID, … (the AWS SDK's chain)",
  },
  {
    name: 'FINANCIAL_COORDINATOR_API_URL',
    fallback: 'offline',
    meaning: 'the financial_coordinator agent',
  },
  { name: 'GURUKUL_TREND_API', fallback: 'offline', meaning: 'the gurukul_trend agent' },
  { name: 'GURUKUL_FEEDBACK_API', fallback: 'offline', meaning: 'the gurukul_feedback agent' },
  { name: 'GURUKUL_ANOMALY_API', fallback: 'offline', meaning: 'the gurukul_anomaly agent' },
  { name: 'LAW_AGENT_API_URL', fallback: 'offline', meaning: 'the law_agent agent' },
];

/** The variables as `bucket serve --help` lists them: one line each, name, default, meaning. */
export function serverVariablesHelp(): string {
  const width = Math.max(...SERVER_VARIABLES.map((v) => v.name.length));
  const fallbackWidth = Math.max(...SERVER_VARIABLES.map((v) => v.fallback.length));
  return SERVER_VARIABLES.map(
    (v) => `  ${v.name.padEnd(width)}  ${v.fallback.padEnd(fallbackWidth)}  ${v.meaning}`,
  ).join('\n');
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
