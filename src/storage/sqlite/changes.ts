/**
 * How the embedded store's own writes (outside the group commit) are made: governance changes,
 * each with the change stamp and its allow entry in one IMMEDIATE transaction, and single writes;
 * both resolve only once on disk (wal-sync.ts). When other processes write the database too (the
 * workers of issue 21), every one of them waits for the write lock off the event loop
 * (write-lock.ts), as the group commit does.
 */
import type Database from 'better-sqlite3';
import type { AuditReceipt } from '../../audit/entry.js';
import type { EventDraft } from '../../domain/events.js';
import type { ChangeEntry } from '../ports.js';
import type { SqliteWriter } from './writer.js';
import { writeLockOf } from './write-lock.js';

const always = () => true;
const none = () => [];

/** What a change appends beside itself, in its transaction. */
export interface ChangeOptions<T> {
  /** The allow entry of the change (SPEC §6), appended after it. */
  readonly entry?: ChangeEntry | undefined;
  /** Whether the change found something to change; by default it did. */
  readonly changed?: (result: T) => boolean;
  /** The change's events (SPEC §10), appended after its entry and pointing at it. */
  readonly events?: (result: T) => readonly EventDraft[];
  /**
   * Whether it moves the change stamp (governance state other caches follow); by default it does.
   */
  readonly stamp?: boolean;
  /** Runs in the transaction once the entry is appended: a change that records where it sits. */
  readonly afterEntry?: (result: T, receipt: AuditReceipt) => void;
}

export class SqliteChanges {
  // The coherence stamp (changeStamp) lives in settings: no schema change for a counter.
  private readonly bumpChangeStamp: Database.Statement;
  private readonly lock: ReturnType<typeof writeLockOf>;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {
    this.lock = writeLockOf(db);
    this.bumpChangeStamp = db.prepare(
      "INSERT INTO settings (key, value) VALUES ('change_stamp', '1') ON CONFLICT (key) " +
        'DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)',
    );
  }

  /**
   * Runs a governance change in one IMMEDIATE transaction with the move of the change stamp and,
   * when given, its allow entry (SPEC §6) and its events (SPEC §10) after it. A change that found
   * nothing to change (`changed` false: an unknown id) moves nothing and appends nothing: its
   * request fails, and records that failure instead. Resolves once the change is on disk.
   */
  async applyChange<T>(change: () => T, options: ChangeOptions<T> = {}): Promise<T> {
    const result = await this.inTransaction(change, options);
    await this.writer.untilDurable();
    return result;
  }

  /**
   * The transaction of applyChange, without the wait for the disk: for writes nothing
   * acknowledges, whose sync the next acknowledged write covers (the WAL is written in order).
   */
  async inTransaction<T>(change: () => T, options: ChangeOptions<T>): Promise<T> {
    return this.lock(() => this.transaction(change, options));
  }

  private transaction<T>(change: () => T, options: ChangeOptions<T>): T {
    const { entry, changed = always, events = none, stamp = true, afterEntry } = options;
    let receipt: AuditReceipt | null = null;
    let result: T;
    try {
      result = this.db
        .transaction(() => {
          const outcome = change();
          if (changed(outcome)) {
            if (stamp) this.bumpChangeStamp.run();
            if (entry) receipt = this.writer.appendWithin(entry.draft);
            if (receipt && afterEntry) afterEntry(outcome, receipt);
            this.writer.eventsWithin(events(outcome), receipt?.leafIndex ?? null);
          }
          return outcome;
        })
        .immediate();
    } catch (error) {
      this.writer.afterRollback();
      throw error;
    }
    if (entry) entry.receipt = receipt;
    return result;
  }

  /** Runs a write of its own (outside the group commit) and resolves once it is on disk. */
  async writeDurably<T>(write: () => T): Promise<T> {
    const result = await this.write(write);
    await this.writer.untilDurable();
    return result;
  }

  /**
   * Runs a write of its own (one statement, or a transaction of the caller's), not waited for on
   * disk: a lease, a cursor, a row whose loss in a crash the next acknowledged write's sync or
   * the next start makes good. Run in the caller's turn of the loop when the lock is free.
   */
  async write<T>(write: () => T): Promise<T> {
    return this.lock(write);
  }
}
