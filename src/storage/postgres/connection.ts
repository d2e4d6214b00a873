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

const INT8 = 20;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? parseSafeInteger
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export type Queryable = pg.Pool | pg.PoolClient;

export function createPool(url: string, options: { readonly: boolean; size: number }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.size,
    types,
    keepAlive: true,
    // A read-only store cannot write even by mistake: the server refuses it. A writer stuck in a
    // transaction (a hung node) must not hold the audit tree head of every node for ever; a
    // verification, which may read blobs between queries, may stay idle longer.
    options: options.readonly
      ? '-c default_transaction_read_only=on'
      : '-c idle_in_transaction_session_timeout=60000',
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
