/**
 * Group commit on PostgreSQL: the writes submitted during one turn of the event loop — and those
 * that arrive while a batch is in flight — share one transaction, so the audit tree head is locked
 * once per batch, not once per request. Each write that issues statements runs in a savepoint
 * (`inSavepoint`), so one that fails is rolled back alone; every promise settles only after the
 * shared transaction has committed (or failed, which fails them all).
 */
import type pg from 'pg';
import { rollbackAndRelease } from './connection.js';

/** One transaction's worth of writes, opened by the committer on its client. */
export interface Batch<I, O> {
  /** Runs one item; a rejection must leave the transaction usable (see inSavepoint). */
  apply(item: I): Promise<O>;
  /** Writes what the items left pending; runs once, before COMMIT. */
  finish(): Promise<void>;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

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
    private readonly open: (client: pg.PoolClient) => Promise<Batch<I, O>>,
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
      await client.query('BEGIN');
      const batch = await this.open(client);
      const outcomes: Outcome<O>[] = [];
      for (const item of items) {
        try {
          outcomes.push({ ok: true, value: await batch.apply(item) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      await batch.finish();
      await client.query('COMMIT');
      client.release();
      return outcomes;
    } catch (error) {
      await rollbackAndRelease(client, error);
      throw error;
    }
  }
}
