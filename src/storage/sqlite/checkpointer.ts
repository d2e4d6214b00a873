/**
 * WAL checkpoints off the event loop (decision record 0063).
 *
 * In WAL mode SQLite copies the log's pages back into the database file — a checkpoint — by
 * itself, inside the commit that takes the log past 1,000 pages, on the committing connection:
 * here the event loop. With `synchronous=NORMAL` that checkpoint syncs the WAL, writes every page
 * and syncs the database file: 20–90 ms on this machine's disk for ~1,450 pages, during which no
 * request is served, every ~1,000 pages (~4 MiB) of commits — under a stream of 1 KiB writes,
 * several times a second.
 *
 * So the writing connection's automatic checkpoint is turned off and a worker thread, with a
 * connection of its own to the same file, runs `PRAGMA wal_checkpoint(PASSIVE)` every
 * INTERVAL_MS: it copies what no reader still needs without waiting for readers or writers, with
 * the same syncs (its connection is `synchronous=NORMAL` too: the WAL is synced before its pages
 * are copied, the database file after), and the next commit after a complete checkpoint starts
 * the log again from its beginning. A checkpoint another process of the data directory is running
 * (BUSY) is left to it. Should the thread fail or exit, the writing connection takes automatic
 * checkpoints back at once: the WAL never grows without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Between two checkpoints of the thread. */
const INTERVAL_MS = 200;
/** SQLite's own automatic checkpoint, taken back when the thread fails. */
const AUTOMATIC_PAGES = 1000;
/** How long closing waits for a checkpoint in progress before it stops the thread. */
const CLOSE_WAIT_MS = 5_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
db.pragma('busy_timeout = 0');
let timer = null;
function turn() {
  timer = null;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ checkpointed: result.checkpointed, log: result.log });
  } catch (error) {
    // Another connection's checkpoint, or a lock another process holds: next turn.
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
  timer = setTimeout(turn, workerData.interval);
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  if (timer) clearTimeout(timer);
  db.close();
  parentPort.close();
});
turn();
`;

export interface CheckpointerOptions {
  /** better-sqlite3's entry point, as the worker requires it (tests pass a missing one). */
  readonly module?: string;
  readonly intervalMs?: number;
}

export class WalCheckpointer {
  private stopped = false;
  private readonly exited: Promise<void>;
  private pagesCopied = 0;
  private turns = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly worker: Worker,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: { checkpointed?: number }) => {
      if (typeof message.checkpointed === 'number') {
        this.turns += 1;
        this.pagesCopied += Math.max(0, message.checkpointed);
      }
    });
    // A thread that fails or ends while the store is open: the connection checkpoints itself again.
    worker.on('error', () => this.takeBack());
    worker.on('exit', () => this.takeBack());
  }

  /** Starts checkpointing `file`, the database `db` writes, in a worker thread. */
  static start(
    db: Database.Database,
    file: string,
    options: CheckpointerOptions = {},
  ): WalCheckpointer {
    const module = options.module ?? createRequire(import.meta.url).resolve('better-sqlite3');
    db.pragma('wal_autocheckpoint = 0');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, file, interval: options.intervalMs ?? INTERVAL_MS },
    });
    // The thread never keeps the process alive: closing the store stops it.
    worker.unref();
    return new WalCheckpointer(db, worker);
  }

  /** Checkpoints the thread ran, and the pages they copied back (tests, metrics). */
  get stats(): { turns: number; pagesCopied: number } {
    return { turns: this.turns, pagesCopied: this.pagesCopied };
  }

  /** Stops the thread (after the checkpoint in progress, if any); the connection is not touched. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Held while it stops: a process with nothing else left would otherwise exit meanwhile.
    this.worker.ref();
    this.worker.postMessage('stop');
    const timeout = new Promise<'late'>((resolve) =>
      setTimeout(() => resolve('late'), CLOSE_WAIT_MS).unref(),
    );
    if ((await Promise.race([this.exited, timeout])) === 'late') await this.worker.terminate();
  }

  private takeBack(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOMATIC_PAGES}`);
  }
}
