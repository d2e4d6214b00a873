/**
 * Group commit, for both metadata stores: the writes submitted during one turn of the event loop —
 * and those that arrive while a batch runs — share one transaction, so a batch pays the fixed cost
 * of a write (the lock round trip, the audit tree head, the commit) once. A batch first runs as a
 * whole (`runBatch`: its writes applied directly, or checked in memory and written together); when
 * one of its writes fails, nothing of it stands, and it runs again with every write isolated
 * (`runIsolated`: each in a savepoint of its own), so that the failing write alone fails. Every
 * promise settles only after the shared transaction has committed (or failed, which fails them
 * all) and, where the store syncs its own commits, after `untilDurable`: no write is acknowledged
 * before it is on disk. The adapters supply the transactions (sqlite/group-commit.ts,
 * postgres/group-commit.ts).
 */

export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * Thrown by `runBatch` when a write of the batch failed (rather than the transaction's start):
 * the batch is then worth running again isolated. Any other error fails every write.
 */
export class WritesFailed extends Error {}

export interface BatchRunner<I, O> {
  /** Runs every item in one transaction and commits it; throws, with nothing committed, if any fails. */
  runBatch(items: readonly I[]): O[] | Promise<O[]>;
  /** Runs every item in one transaction, each isolated, and commits the ones that succeed. */
  runIsolated(items: readonly I[]): Outcome<O>[] | Promise<Outcome<O>[]>;
  /** After a batch rolled back: state kept in memory beside the database is reloaded. */
  afterRollback?(): void;
  /** Resolves once everything committed so far is durable (a store that syncs its own commits). */
  untilDurable?(): Promise<void>;
  /**
   * The sync of the disk in progress, or null. While one runs, writes are held and committed
   * together the moment it ends: they would wait for the next sync anyway, so holding them costs
   * no latency, and batches grow as large as the disk's pace allows.
   */
  syncInProgress?(): Promise<unknown> | null;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;
  /** One batch runs at a time; the next one may commit while this one waits for the disk. */
  private running = false;

  constructor(private readonly runner: BatchRunner<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every write submitted so far has run. */
  async drain(): Promise<void> {
    while (this.running || this.scheduled || this.queue.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      void this.flush();
    };
    const sync = this.runner.syncInProgress?.() ?? null;
    if (sync) sync.then(flush, flush);
    else setImmediate(flush);
  }

  private async flush(): Promise<void> {
    const pending = this.queue;
    this.queue = [];
    if (pending.length === 0) return;
    this.running = true;
    let outcomes: Outcome<O>[];
    try {
      outcomes = await this.run(pending.map((p) => p.item));
    } catch (error) {
      this.runner.afterRollback?.();
      for (const p of pending) p.reject(error);
      return;
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
    if (this.runner.untilDurable) {
      try {
        await this.runner.untilDurable();
      } catch (error) {
        for (const p of pending) p.reject(error);
        return;
      }
    }
    outcomes.forEach((outcome, i) => {
      const p = pending[i];
      if (!p) return;
      if (outcome.ok) p.resolve(outcome.value);
      else p.reject(outcome.error);
    });
  }

  private async run(items: readonly I[]): Promise<Outcome<O>[]> {
    let values: O[];
    try {
      values = await this.runner.runBatch(items);
    } catch (error) {
      if (!(error instanceof WritesFailed)) throw error;
      this.runner.afterRollback?.();
      return this.runner.runIsolated(items);
    }
    return values.map((value) => ({ ok: true, value }));
  }
}
