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
 * So a worker thread, with a connection of its own to the same file, runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every INTERVAL_MS: it copies what no reader still needs without
 * waiting for readers or writers, with the same syncs (its connection is `synchronous=NORMAL` too:
 * the WAL is synced before its pages are copied, the database file after). A PASSIVE checkpoint
 * never starts the log again from its beginning — only a write that begins on a fully copied log
 * does, and under a steady stream of commits the log is never fully copied when one begins — so
 * once the log holds RESTART_PAGES, the thread runs `wal_checkpoint(RESTART)`: it holds new
 * writers back (they wait off the event loop, write-lock.ts) while it copies the rest, then the
 * log starts again. The writing connection keeps an automatic checkpoint of its own at
 * BACKSTOP_PAGES, which a working thread never lets the log reach, and takes SQLite's usual 1,000
 * back should the thread fail or exit: the WAL stays bounded either way. A checkpoint another
 * process of the data directory is running (BUSY) is left to it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Between two checkpoints of the thread. */
const INTERVAL_MS = 200;
/** Pages in the log from which the thread starts it again (RESTART): ~16 MiB. */
const RESTART_PAGES = 4_000;
/** How long a RESTART waits for the write lock and for readers of the log. */
const RESTART_WAIT_MS = 1_000;
/** The writing connection's own automatic checkpoint while the thread works: ~80 MiB. */
const BACKSTOP_PAGES = 20_000;
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
// Another connection's checkpoint, a lock another process holds, a log being recovered: next turn.
const passing = (error) =>
  typeof error.code === 'string' &&
  (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED') ||
    error.code === 'SQLITE_PROTOCOL');
function checkpoint(mode) {
  try {
    const [result] = db.pragma('wal_checkpoint(' + mode + ')');
    return result;
  } catch (error) {
    if (passing(error)) return null;
    throw error;
  }
}
function turn() {
  timer = null;
  const passive = checkpoint('PASSIVE');
  if (passive && passive.busy === 0) {
    parentPort.postMessage({ checkpointed: passive.checkpointed, log: passive.log });
  }
  if (passive && passive.log >= workerData.restartPages) {
    db.pragma('busy_timeout = ' + workerData.restartWaitMs);
    try {
      const restart = checkpoint('RESTART');
      if (restart && restart.busy === 0) parentPort.postMessage({ restarted: true });
    } finally {
      db.pragma('busy_timeout = 0');
    }
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
  /** Pages in the log from which it is started again (tests set fewer). */
  readonly restartPages?: number;
}

export class WalCheckpointer {
  private stopped = false;
  private failed = false;
  private readonly exited: Promise<void>;
  private pagesCopied = 0;
  private turns = 0;
  private restarts = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly worker: Worker,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: { checkpointed?: number; restarted?: boolean }) => {
      if (typeof message.checkpointed === 'number') {
        this.turns += 1;
        this.pagesCopied += Math.max(0, message.checkpointed);
      }
      if (message.restarted === true) this.restarts += 1;
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
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module,
        file,
        interval: options.intervalMs ?? INTERVAL_MS,
        restartPages: options.restartPages ?? RESTART_PAGES,
        restartWaitMs: RESTART_WAIT_MS,
      },
    });
    // The thread never keeps the process alive: closing the store stops it.
    worker.unref();
    return new WalCheckpointer(db, worker);
  }

  /** Checkpoints the thread ran, the pages they copied back, the logs started again; whether it
   * failed (the writing connection checkpoints by itself again). */
  get stats(): { turns: number; pagesCopied: number; restarts: number; failed: boolean } {
    return {
      turns: this.turns,
      pagesCopied: this.pagesCopied,
      restarts: this.restarts,
      failed: this.failed,
    };
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
    this.failed = true;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOMATIC_PAGES}`);
  }
}
