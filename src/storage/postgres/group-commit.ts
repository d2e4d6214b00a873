/**
 * Group commit on PostgreSQL: the writes submitted during one turn of the event loop — and those
 * that arrive while a batch is in flight — share one transaction, so the audit tree head is locked
 * once per batch, not once per request. A batch first runs as the store opens it for the whole
 * batch (its writes may be checked in memory and written together); when that fails, it is rolled
 * back and run again `isolated`, each write that issues statements in a savepoint (`inSavepoint`),
 * so that one that fails is rolled back alone. Every promise settles only after the shared
 * transaction has committed (or failed, which fails them all).
 */
import type pg from 'pg';
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

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** A write of a batch run as a whole failed (not the transaction's start): worth an isolated run. */
class WritesFailed extends Error {}

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

export class PgGroupCommitter<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  private inFlight = false;

  constructor(
    private readonly pool: pg.Pool,
    /** Begins a transaction on the client for a batch of `items`; `isolated` after a failed run. */
    private readonly open: (
      client: pg.PoolClient,
      items: readonly I[],
      isolated: boolean,
    ) => Promise<Batch<I, O>>,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every write submitted so far has settled. */
  async drain(): Promise<void> {
    while (this.inFlight || this.scheduled || this.queue.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const pending = this.queue;
    this.queue = [];
    if (pending.length === 0) return;
    this.inFlight = true;
    try {
      const outcomes = await this.run(pending.map((p) => p.item));
      outcomes.forEach((outcome, i) => {
        const p = pending[i];
        if (!p) return;
        if (outcome.ok) p.resolve(outcome.value);
        else p.reject(outcome.error);
      });
    } catch (error) {
      for (const p of pending) p.reject(error);
    } finally {
      this.inFlight = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async run(items: readonly I[]): Promise<Outcome<O>[]> {
    const client = await this.pool.connect();
    try {
      let outcomes: Outcome<O>[];
      try {
        outcomes = await this.runOnce(client, items, false);
      } catch (error) {
        // Nothing of the batch stands. When one of its writes failed, run it again with every
        // write isolated, so that only that one fails; anything else fails them all (below).
        if (!(error instanceof WritesFailed)) throw error;
        await client.query('ROLLBACK');
        outcomes = await this.runOnce(client, items, true);
      }
      client.release();
      return outcomes;
    } catch (error) {
      await rollbackAndRelease(client, error);
      throw error;
    }
  }

  private async runOnce(
    client: pg.PoolClient,
    items: readonly I[],
    isolated: boolean,
  ): Promise<Outcome<O>[]> {
    const batch = await this.open(client, items, isolated);
    const outcomes: Outcome<O>[] = [];
    try {
      for (const item of items) {
        try {
          outcomes.push({ ok: true, value: await batch.apply(item) });
        } catch (error) {
          if (!isolated) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      await batch.finish();
    } catch (error) {
      if (isolated) throw error;
      throw new WritesFailed('a write of the batch failed', { cause: error });
    }
    await client.query('COMMIT');
    batch.committed?.();
    return outcomes;
  }
}
