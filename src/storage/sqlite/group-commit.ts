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
 * When other processes write the same database (`nonBlocking`, issue 21), a batch that finds the
 * write lock taken does not wait in SQLite's busy handler, which sleeps on the event loop: it
 * gives the loop back and tries again a moment later.
 */
import type Database from 'better-sqlite3';
import { GroupCommit, WritesFailed, type Outcome } from '../group-commit.js';

/** How a committer's batches reach the disk (wal-sync.ts). */
export interface Durability {
  /** Resolves once everything committed so far is on disk. */
  untilDurable(): Promise<void>;
  /** The sync in progress (settles when it ends, whatever its outcome), or null. */
  syncInProgress(): Promise<unknown> | null;
}

/** How long a batch keeps trying for the write lock another process holds. */
const LOCK_WAIT_MS = 5000;
/** The connection's busy timeout otherwise (metadata.ts sets it at opening). */
export const BUSY_TIMEOUT_MS = 5000;

/** Whether SQLite refused for a lock another connection holds. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Runs `transaction` with the connection's busy handler off, retrying off the event loop while
 * another process holds the write lock; `afterRollback` runs before every retry.
 */
async function withoutBlocking<T>(
  db: Database.Database,
  transaction: () => T,
  afterRollback?: () => void,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    // Set as the pragma is compiled: a prepared statement would set it once, not each time.
    db.pragma('busy_timeout = 0');
    try {
      return transaction();
    } catch (error) {
      if (!isBusy(error) || Date.now() - started > LOCK_WAIT_MS) throw error;
      afterRollback?.();
    } finally {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    await new Promise((resolve) => (attempt < 3 ? setImmediate(resolve) : setTimeout(resolve, 1)));
  }
}

/** A group commit of `apply` on the connection `db`, in IMMEDIATE transactions. */
export function sqliteGroupCommit<I, O>(
  db: Database.Database,
  apply: (item: I) => O,
  afterRollback?: () => void,
  durability?: Durability,
  /** Other processes write the database too: wait for its lock off the event loop. */
  nonBlocking = false,
): GroupCommit<I, O> {
  const run = <T>(transaction: () => T): T | Promise<T> =>
    nonBlocking ? withoutBlocking(db, transaction, afterRollback) : transaction();
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
