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
  /** `BUCKET_OWNER_KEY`: the owner key, instead of a generated one. */
  readonly ownerKey: string | undefined;
  /** `BUCKET_LOG_LEVEL`, default info (`silent` turns request logs off). */
  readonly logLevel: string;
  /** `BUCKET_INLINE_MAX_BYTES`: contents up to this size live in the metadata store (64 KiB). */
  readonly inlineMaxBytes: number;
  /** Seconds a connection may stay idle mid-request before it is closed (`BUCKET_IDLE_TIMEOUT_S`). */
  readonly idleTimeoutSeconds: number;
  /** `BUCKET_AUDIT_KEY_FILE`: the checkpoint signing key; default `<dataDir>/audit-signing.pem`. */
  readonly auditKeyFile: string | undefined;
  /** `BUCKET_AUDIT_ORIGIN`: the checkpoint origin; default `bhiv-bucket/<installation id>`. */
  readonly auditOrigin: string | undefined;
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

const SCALE_OUT = ['BUCKET_DATABASE_URL', 'BUCKET_BLOB_URL', 'BUCKET_REDIS_URL'];

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BucketConfig {
  for (const name of SCALE_OUT) {
    if (env[name]) {
      throw new ConfigError(
        `${name} is set, but this version runs only on the embedded backend (SQLite + files); ` +
          'unset it to start',
      );
    }
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
  const auditKeyFile = env['BUCKET_AUDIT_KEY_FILE'];
  return {
    dataDir: resolve(env['BUCKET_DATA_DIR'] || './data'),
    host: env['HOST'] || '127.0.0.1',
    port: integer(env, 'PORT', 8080, 0),
    ownerKey: ownerKey || undefined,
    logLevel: env['BUCKET_LOG_LEVEL'] || 'info',
    inlineMaxBytes: integer(env, 'BUCKET_INLINE_MAX_BYTES', 64 * 1024, 0),
    idleTimeoutSeconds: integer(env, 'BUCKET_IDLE_TIMEOUT_S', 120, 1),
    auditKeyFile: auditKeyFile ? resolve(auditKeyFile) : undefined,
    auditOrigin,
  };
}

/** The package version, for `/health` and `--version`. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
