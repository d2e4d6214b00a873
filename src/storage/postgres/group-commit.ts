/**
 * The PostgreSQL transactions of the group commit (storage/group-commit.ts): a batch of writes is
 * one transaction on a client of the pool, opened by the store for the whole batch (its writes may
 * be checked in memory and written together, `Batch.finish`); run again isolated, each write that
 * issues statements does so in a savepoint (`inSavepoint`), so that one that fails is rolled back
 * alone. One batch runs at a time: the jobs that arrive meanwhile form the next one.
 */
import type pg from 'pg';
import { GroupCommit, WritesFailed, type Outcome } from '../group-commit.js';
import { rollbackAndRelease } from './connection.js';

/** One transaction's worth of writes, opened by the committer on its client. */
export interface Batch<I, O> {
  /** Runs one item; a rejection must leave the transaction usable (see inSavepoint). */
  apply(item: I): Promise<O>;
  /** Writes what the items left pending; runs once, before COMMIT. */
  finish(): Promise<void>;
  /** Runs once the batch's transaction has committed. */
  committed?(): void;
}

/** Begins a transaction on the client for a batch of `items`; `isolated` after a failed run. */
export type OpenBatch<I, O> = (
  client: pg.PoolClient,
  items: readonly I[],
  isolated: boolean,
) => Promise<Batch<I, O>>;

let savepoints = 0;

/** Runs `fn` inside a savepoint: when it throws, its statements are rolled back, and only them. */
export async function inSavepoint<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  const name = `job_${++savepoints}`;
  await client.query(`SAVEPOINT ${name}`);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
  await client.query(`RELEASE SAVEPOINT ${name}`);
  return result;
}

/** A group commit on `pool`, its batches opened by `open`. */
export function pgGroupCommit<I, O>(pool: pg.Pool, open: OpenBatch<I, O>): GroupCommit<I, O> {
  /** Opens a batch of `items` on a client of its own, runs `applyAll` in it, and commits. */
  const inBatch = async <T>(
    items: readonly I[],
    isolated: boolean,
    applyAll: (batch: Batch<I, O>) => Promise<T>,
  ): Promise<T> => {
    const client = await pool.connect();
    try {
      const batch = await open(client, items, isolated);
      const result = await applyAll(batch);
      await client.query('COMMIT');
      client.release();
      batch.committed?.();
      return result;
    } catch (error) {
      await rollbackAndRelease(client, error);
      throw error;
    }
  };
  return new GroupCommit<I, O>({
    runBatch: (items) =>
      inBatch(items, false, async (batch) => {
        const values: O[] = [];
        try {
          for (const item of items) values.push(await batch.apply(item));
          await batch.finish();
        } catch (error) {
          throw new WritesFailed('a write of the batch failed', { cause: error });
        }
        return values;
      }),
    runIsolated: (items) =>
      inBatch(items, true, async (batch) => {
        const outcomes: Outcome<O>[] = [];
        for (const item of items) {
          try {
            outcomes.push({ ok: true, value: await batch.apply(item) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        await batch.finish();
        return outcomes;
      }),
  });
}
