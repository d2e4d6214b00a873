/**
 * The embedded store's transactions for the group commit (storage/group-commit.ts): a batch is one
 * IMMEDIATE transaction — one WAL append and one lock round trip instead of one per write — run
 * first without savepoints (two statements less per write), and only when one of its writes throws
 * again with each write in its own savepoint. Every batch waits for the store's durability barrier
 * (wal-sync.ts) before it is acknowledged; while a sync of the disk runs, writes are held and
 * committed together the moment it ends. `afterRollback` runs whenever a savepoint or a batch
 * rolled back, so that state kept in memory beside the database (the audit tree's edge, the usage
 * counters) can be reloaded from what is committed.
 *
 * A batch that finds the write lock taken (another worker of the Bucket, issue 21, or any program
 * that opened the database) does not wait in SQLite's busy handler, which sleeps on the event
 * loop: it gives the loop back and tries again a moment later (write-lock.ts).
 */
import type Database from 'better-sqlite3';
import { GroupCommit, WritesFailed, type Outcome } from '../group-commit.js';
import { isBusy, writeLockOf } from './write-lock.js';

/** How a committer's batches reach the disk (wal-sync.ts). */
export interface Durability {
  /** Resolves once everything committed so far is on disk. */
  untilDurable(): Promise<void>;
  /** The sync in progress (settles when it ends, whatever its outcome), or null. */
  syncInProgress(): Promise<unknown> | null;
}

/** A group commit of `apply` on the connection `db`, in IMMEDIATE transactions. */
export function sqliteGroupCommit<I, O>(
  db: Database.Database,
  apply: (item: I) => O,
  afterRollback?: () => void,
  durability?: Durability,
): GroupCommit<I, O> {
  const lock = writeLockOf(db);
  const run = <T>(transaction: () => T): T | Promise<T> => lock(transaction, afterRollback);
  /** Every write applied directly: any throw rolls the whole batch back. */
  const batch = db.transaction((items: readonly I[]) => items.map(apply));
  // Called inside the batch, a better-sqlite3 transaction function becomes a savepoint.
  const single = db.transaction(apply);
  /** Every write in its own savepoint: one that throws is rolled back alone. */
  const isolated = db.transaction((items: readonly I[]) =>
    items.map((item): Outcome<O> => {
      try {
        return { ok: true, value: single(item) };
      } catch (error) {
        afterRollback?.();
        return { ok: false, error };
      }
    }),
  );
  return new GroupCommit<I, O>({
    async runBatch(items) {
      // Inside someone else's transaction the batch would become a savepoint whose fate that
      // transaction decides: acknowledging it would be a lie.
      if (db.inTransaction) throw new Error('group commit inside another transaction');
      try {
        return await run(() => batch.immediate(items));
      } catch (error) {
        if (isBusy(error)) throw error;
        // A write threw (or the commit failed): nothing of the batch stands.
        throw new WritesFailed('a write of the batch failed', { cause: error });
      }
    },
    runIsolated: (items) => run(() => isolated.immediate(items)),
    afterRollback,
    untilDurable: durability && (() => durability.untilDurable()),
    syncInProgress: durability && (() => durability.syncInProgress()),
  });
}
