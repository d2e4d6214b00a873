/**
 * Connections of the PostgreSQL adapter: a pool whose bigint columns arrive as numbers, and the
 * read snapshot (AsyncLocalStorage) that routes every read of `withReadSnapshot`'s callback
 * through one REPEATABLE READ transaction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';

/** Sizes, indices and counters are bigint columns; they stay exact as JS numbers below 2^53. */
function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} exceeds 2^53`);
  return value;
}

/**
 * PostgreSQL text cannot hold U+0000, which SQLite's can — and request data (an artifact name in
 * a refused request, threat evidence) may carry it. Text goes in with an injective escape (U+E000
 * doubles itself, U+0000 becomes U+E000 '0') and comes out decoded, so values round-trip exactly,
 * equality still means equality, and text without either character is untouched.
 */
const ESCAPE = '\uE000';

function encodeText(text: string): string {
  if (!text.includes('\u0000') && !text.includes(ESCAPE)) return text;
  // The escape first: the U+E000 that NULs become must not be doubled.
  return text.replaceAll(ESCAPE, ESCAPE + ESCAPE).replaceAll('\u0000', ESCAPE + '0');
}

function decodeText(text: string): string {
  if (!text.includes(ESCAPE)) return text;
  return text.replace(/\uE000([\uE0000])/g, (_, c: string) => (c === '0' ? '\u0000' : ESCAPE));
}

function encodeParam(value: unknown): unknown {
  if (typeof value === 'string') return encodeText(value);
  if (Array.isArray(value)) return value.map(encodeParam);
  return value;
}

const INT8 = 20;
const TEXT = 25;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, format);
    if (oid === INT8) return parseSafeInteger;
    if (oid === TEXT) return decodeText;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** A client whose query parameters are encoded (see encodeText); the pool creates only these. */
class EncodingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      if (Array.isArray(args[1])) args[1] = args[1].map(encodeParam);
      else if (typeof args[0] === 'object' && args[0] !== null && 'values' in args[0]) {
        const config = args[0] as { values?: unknown[] };
        if (Array.isArray(config.values)) config.values = config.values.map(encodeParam);
      }
      return query(...args);
    }) as typeof this.query;
  }
}

export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolOptions {
  readonly readonly: boolean;
  readonly size: number;
  /** How long a write waits for a lock (the audit tree head) before failing, like SQLite's busy_timeout. */
  readonly lockTimeoutMs: number;
}

export function createPool(url: string, options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    Client: EncodingClient as unknown as new () => pg.ClientBase,
    max: options.size,
    types,
    keepAlive: true,
    // A read-only store cannot write even by mistake: the server refuses it. A writer stuck in a
    // transaction (a hung node) must not hold the audit tree head of every node for ever; a
    // verification, which may read blobs between queries, may stay idle longer.
    options: options.readonly
      ? '-c default_transaction_read_only=on'
      : `-c lock_timeout=${options.lockTimeoutMs} -c idle_in_transaction_session_timeout=60000`,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

/** Where reads go: the snapshot client inside `withReadSnapshot`, else the pool. */
export class Readers {
  private readonly snapshot = new AsyncLocalStorage<pg.PoolClient>();

  constructor(private readonly pool: pg.Pool) {}

  get current(): Queryable {
    return this.snapshot.getStore() ?? this.pool;
  }

  /** Runs `fn` with every read on one REPEATABLE READ READ ONLY transaction. */
  async withSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.snapshot.getStore()) return fn();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The snapshot is taken by the first statement, not by BEGIN.
      await client.query('SELECT 1');
      return await this.snapshot.run(client, fn);
    } finally {
      try {
        await client.query('COMMIT');
        client.release();
      } catch (error) {
        client.release(error as Error);
      }
    }
  }
}

/** Runs `fn` in a transaction on a client of its own. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    await rollbackAndRelease(client, error);
    throw error;
  }
}

/** Rolls back whatever is open and returns the client, discarding it if the rollback fails. */
export async function rollbackAndRelease(client: pg.PoolClient, cause: unknown): Promise<void> {
  try {
    await client.query('ROLLBACK');
    client.release();
  } catch {
    client.release(cause instanceof Error ? cause : new Error(String(cause)));
  }
}
