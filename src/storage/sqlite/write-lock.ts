/**
 * SQLite's one write lock, which another process may hold: the other workers of one embedded
 * Bucket (issue 21), or any program that opens the database — a backup, the sqlite3 shell. A write
 * that finds the lock taken must not wait in SQLite's busy handler, which sleeps on the event
 * loop: the process would stop answering anything, health included, for as long as the other
 * holds it (a periodic write — the audit checkpoint, the run engine's claim — would freeze it for
 * the whole busy timeout, again and again). `withWriteLock` turns the busy handler off for the
 * attempt and, when the lock is taken, gives the loop back and tries again a moment later. Every
 * write of the store goes through it: the group commit's batches (group-commit.ts) and the store's
 * own writes (changes.ts: governance changes, leases, settings, run claims).
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
 * How a store runs its writes: through `withWriteLock`. Uncontended, the first attempt runs at
 * once, in the caller's turn of the loop.
 */
export function writeLockOf(
  db: Database.Database,
): <T>(write: () => T, afterRollback?: () => void) => T | Promise<T> {
  return (write, afterRollback) => withWriteLock(db, write, afterRollback);
}
