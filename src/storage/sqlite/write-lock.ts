/**
 * SQLite's one write lock, when other processes (the workers of one embedded Bucket, issue 21)
 * write the same database: a write that finds the lock taken must not wait in SQLite's busy
 * handler, which sleeps on the event loop — the process would stop answering anything, health
 * included, for as long as another process writes. `withWriteLock` turns the busy handler off for
 * the attempt and, when the lock is taken, gives the loop back and tries again a moment later.
 * Every write of a shared store goes through it: the group commit's batches (group-commit.ts) and
 * the store's own writes (changes.ts: governance changes, leases, settings).
 */
import type Database from 'better-sqlite3';

/** How long a write keeps trying for the write lock another process holds. */
export const LOCK_WAIT_MS = 5000;
/** The connection's busy timeout otherwise (metadata.ts sets it at opening). */
export const BUSY_TIMEOUT_MS = 5000;

/** Whether SQLite refused for a lock another connection holds. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Runs `write` (a transaction, or one statement) with the connection's busy handler off, retrying
 * off the event loop while another process holds the write lock; `afterRollback` runs before
 * every retry. `write` must change nothing outside the database but what `afterRollback` undoes:
 * a refused attempt is run again from its start.
 */
export async function withWriteLock<T>(
  db: Database.Database,
  write: () => T,
  afterRollback?: () => void,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    // Set as the pragma is compiled: a prepared statement would set it once, not each time.
    db.pragma('busy_timeout = 0');
    try {
      return write();
    } catch (error) {
      if (!isBusy(error) || Date.now() - started > LOCK_WAIT_MS) throw error;
      afterRollback?.();
    } finally {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    await new Promise((resolve) => (attempt < 3 ? setImmediate(resolve) : setTimeout(resolve, 1)));
  }
}

/**
 * How a store runs its writes: directly when it is its database's only writer (SQLite's lock is
 * then never taken by another), through `withWriteLock` when other processes write too.
 */
export function writeLockOf(
  db: Database.Database,
  shared: boolean,
): <T>(write: () => T, afterRollback?: () => void) => T | Promise<T> {
  return shared
    ? (write, afterRollback) => withWriteLock(db, write, afterRollback)
    : (write) => write();
}
