/**
 * Group commit: the writes submitted during one turn of the event loop share one IMMEDIATE
 * transaction — one WAL append and one lock round trip instead of one per write. Each write runs
 * in its own savepoint, so one that throws is rolled back alone; every promise settles only after
 * the shared transaction has committed (or failed, which fails them all). `afterRollback` runs
 * whenever a savepoint or the whole batch rolled back, so that state kept in memory beside the
 * database (the audit tree's edge) can be reloaded from what is committed.
 */
import type Database from 'better-sqlite3';

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export class GroupCommitter<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  private readonly batch: Database.Transaction<(items: I[]) => Outcome<O>[]>;

  constructor(
    private readonly db: Database.Database,
    apply: (item: I) => O,
    private readonly afterRollback?: () => void,
  ) {
    // Called inside the batch, a better-sqlite3 transaction function becomes a savepoint.
    const single = db.transaction(apply);
    this.batch = db.transaction((items: I[]) =>
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
        setImmediate(() => this.flush());
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
      outcomes = this.batch.immediate(pending.map((p) => p.item));
    } catch (error) {
      this.afterRollback?.();
      for (const p of pending) p.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const p = pending[i];
      if (!p) return;
      if (outcome.ok) p.resolve(outcome.value);
      else p.reject(outcome.error);
    });
  }
}
