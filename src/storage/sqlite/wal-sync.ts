/**
 * Durability of the embedded store's commits, off the event loop.
 *
 * SQLite runs in WAL mode with `synchronous=NORMAL`: a commit appends its frames to the WAL file
 * with write() and returns, without an fsync. That survives a crash of the process (`kill -9`),
 * not a crash of the machine (power loss, kernel panic), where the page cache is lost with it.
 * Before the Bucket acknowledges anything it committed, it waits for a barrier: an fdatasync of
 * the WAL file that started after that commit. The sync runs in libuv's thread pool, so the event
 * loop keeps serving meanwhile, and it is shared: every commit made while one sync runs waits for
 * the next one, so a busy server makes one sync at a time, whatever its write rate — group
 * commit's fsync, without the event loop waiting on the disk (`synchronous=FULL` would).
 *
 * The WAL is appended in commit order, so a completed sync covers every commit made before it
 * started (SQLite itself fsyncs the WAL before it copies pages back into the database file).
 *
 * A failed sync is final: Linux may drop the dirty pages a failed fsync could not write, and a
 * retry can then report success without them. Every later barrier fails with the same error,
 * which the store's ping reports (`/health` answers 503) until the server is restarted.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DurabilityError } from '../errors.js';

export { DurabilityError };

const ignore = (): void => undefined;

export class WalSync {
  /** The sync in progress, if any. */
  private running: Promise<void> | null = null;
  /** The sync that starts when the running one ends: what callers arriving meanwhile wait for. */
  private next: Promise<void> | null = null;
  private failure: DurabilityError | null = null;
  private syncs = 0;
  private syncSeconds = 0;
  private milestone: { readonly count: number; readonly run: () => void } | null = null;

  /** `syncFile` makes every write made to `file` before its call durable. */
  constructor(
    private readonly file: string,
    private readonly syncFile: () => Promise<void>,
    private readonly closeFile: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /**
   * Syncs a database's WAL file through one handle, opened at the first sync (the file exists
   * once the database is in WAL mode and written, and keeps its inode while this process holds a
   * connection: SQLite removes it only when the last connection closes).
   */
  static forFile(walFile: string): WalSync {
    let handle: Promise<FileHandle> | null = null;
    return new WalSync(
      walFile,
      async () => {
        handle ??= open(walFile, 'r+');
        await (await handle).datasync();
      },
      async () => {
        const opened = handle;
        handle = null;
        if (opened) await (await opened.catch(() => null))?.close();
      },
    );
  }

  /** A store with nothing to sync (an in-memory database): every barrier passes at once. */
  static none(): WalSync {
    return new WalSync(':memory:', () => Promise.resolve());
  }

  /** Resolves once every commit made before this call is on disk; rejects once a sync failed. */
  barrier(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.running === null) return this.start();
    // The running sync may have started before the caller's commit: only the next one covers it.
    this.next ??= this.running.then(ignore, ignore).then(() => {
      this.next = null;
      return this.start();
    });
    return this.next;
  }

  /** The sync in progress (it settles when that sync ends, whatever its outcome), or null. */
  get syncInProgress(): Promise<void> | null {
    return this.running;
  }

  /** The error every barrier fails with since a sync failed, or null. */
  get failed(): DurabilityError | null {
    return this.failure;
  }

  /** Syncs completed or failed so far. */
  get count(): number {
    return this.syncs;
  }

  /** Their total duration, in seconds. */
  get seconds(): number {
    return this.syncSeconds;
  }

  /** Calls `run` once, when `count` syncs have completed or failed (a busy store's start). */
  afterSyncs(count: number, run: () => void): void {
    if (this.syncs >= count) run();
    else this.milestone = { count, run };
  }

  /** Waits for the syncs running or waiting, then closes the file. */
  async close(): Promise<void> {
    while (this.running !== null || this.next !== null) {
      await (this.next ?? this.running)?.then(ignore, ignore);
    }
    await this.closeFile();
  }

  private start(): Promise<void> {
    const started = performance.now();
    const run = this.sync().finally(() => {
      this.syncs += 1;
      this.syncSeconds += (performance.now() - started) / 1000;
      if (this.running === run) this.running = null;
      if (this.milestone !== null && this.syncs >= this.milestone.count) {
        const reached = this.milestone.run;
        this.milestone = null;
        // Apart from the sync: what it starts neither delays nor fails the commits waiting on it.
        setImmediate(() => {
          try {
            reached();
          } catch {
            // Nothing started: the store goes on as before the milestone.
          }
        });
      }
    });
    this.running = run;
    return run;
  }

  private async sync(): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      await this.syncFile();
    } catch (error) {
      this.failure ??= new DurabilityError(this.file, error);
      throw this.failure;
    }
  }
}
