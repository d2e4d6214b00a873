/**
 * Group commit: the writes submitted during one turn of the event loop share one IMMEDIATE
 * transaction — one WAL append and one lock round trip instead of one per write. A write that
 * throws is rolled back alone: the batch first runs without savepoints (two statements less per
 * write), and only when one of its writes throws is it rolled back and run again with each write
 * in its own savepoint. Every promise settles only after the shared transaction has committed
 * (or failed, which fails them all) and the store's durability barrier (`durability.settle`,
 * wal-sync.ts) has resolved: no write is acknowledged before it is on disk. While a sync of the
 * disk runs, writes are not committed one turn at a time but held and committed together the
 * moment it ends, just before the next sync starts: they would wait for that next sync anyway, so
 * holding them costs no latency, and the batches (whose fixed cost — pages, tree head, commit —
 * dominates a small write) are as large as the disk's pace allows. `afterRollback` runs whenever
 * a savepoint or a batch rolled back, so that state kept in memory beside the database (the audit
 * tree's edge) can be reloaded from what is committed.
 */
import type Database from 'better-sqlite3';

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** How a committer's batches reach the disk (wal-sync.ts). */
export interface Durability {
  /** Resolves once everything committed so far is on disk. */
  settle(): Promise<void>;
  /** The sync in progress (settles when it ends, whatever its outcome), or null. */
  busy(): Promise<unknown> | null;
}

const IMMEDIATE: Durability = { settle: () => Promise.resolve(), busy: () => null };

export class GroupCommitter<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  /** Every write applied directly: any throw rolls the whole batch back. */
  private readonly batch: Database.Transaction<(items: I[]) => Outcome<O>[]>;
  /** Every write in its own savepoint: one that throws is rolled back alone. */
  private readonly isolatedBatch: Database.Transaction<(items: I[]) => Outcome<O>[]>;

  constructor(
    private readonly db: Database.Database,
    apply: (item: I) => O,
    private readonly afterRollback?: () => void,
    private readonly durability: Durability = IMMEDIATE,
  ) {
    this.batch = db.transaction((items: I[]) =>
      items.map((item): Outcome<O> => ({ ok: true, value: apply(item) })),
    );
    // Called inside the batch, a better-sqlite3 transaction function becomes a savepoint.
    const single = db.transaction(apply);
    this.isolatedBatch = db.transaction((items: I[]) =>
      items.map((item): Outcome<O> => {
        try {
          return { ok: true, value: single(item) };
        } catch (error) {
          this.afterRollback?.();
          return { ok: false, error };
        }
      }),
    );
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        const busy = this.durability.busy();
        if (busy) {
          const flush = () => this.flush();
          busy.then(flush, flush);
        } else {
          setImmediate(() => this.flush());
        }
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    let outcomes: Outcome<O>[];
    try {
      // Inside someone else's transaction the batch would become a savepoint whose fate that
      // transaction decides: acknowledging it would be a lie.
      if (this.db.inTransaction) throw new Error('group commit inside another transaction');
      const items = pending.map((p) => p.item);
      try {
        outcomes = this.batch.immediate(items);
      } catch {
        // A write threw (or the commit failed): nothing of the batch stands. Run it again with
        // every write isolated, so that only the failing one fails.
        this.afterRollback?.();
        outcomes = this.isolatedBatch.immediate(items);
      }
    } catch (error) {
      this.afterRollback?.();
      for (const p of pending) p.reject(error);
      return;
    }
    // The next batch may commit while this one waits for the disk: its own wait covers both.
    this.durability.settle().then(
      () =>
        outcomes.forEach((outcome, i) => {
          const p = pending[i];
          if (!p) return;
          if (outcome.ok) p.resolve(outcome.value);
          else p.reject(outcome.error);
        }),
      (error: unknown) => {
        for (const p of pending) p.reject(error);
      },
    );
  }
}
