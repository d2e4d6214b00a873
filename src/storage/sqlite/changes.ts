/**
 * How the embedded store's own writes (outside the group commit) are made: governance changes,
 * each with the change stamp and its allow entry in one IMMEDIATE transaction, and single writes;
 * both resolve only once on disk (wal-sync.ts).
 */
import type Database from 'better-sqlite3';
import type { AuditReceipt } from '../../audit/entry.js';
import type { ChangeEntry } from '../ports.js';
import type { SqliteWriter } from './writer.js';

const always = () => true;

export class SqliteChanges {
  // The coherence stamp (changeStamp) lives in settings: no schema change for a counter.
  private readonly bumpChangeStamp: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {
    this.bumpChangeStamp = db.prepare(
      "INSERT INTO settings (key, value) VALUES ('change_stamp', '1') ON CONFLICT (key) " +
        'DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)',
    );
  }

  /**
   * Runs a governance change in one IMMEDIATE transaction with the move of the change stamp and,
   * when given, its allow entry (SPEC §6) after it. A change that found nothing to change
   * (`changed` false: an unknown id) moves nothing and appends nothing: its request fails, and
   * records that failure instead. Resolves once the change is on disk.
   */
  async applyChange<T>(
    change: () => T,
    entry?: ChangeEntry,
    changed: (result: T) => boolean = always,
  ): Promise<T> {
    let receipt: AuditReceipt | null = null;
    let result: T;
    try {
      result = this.db
        .transaction(() => {
          const outcome = change();
          if (changed(outcome)) {
            this.bumpChangeStamp.run();
            if (entry) receipt = this.writer.appendWithin(entry.draft);
          }
          return outcome;
        })
        .immediate();
    } catch (error) {
      this.writer.afterRollback();
      throw error;
    }
    await this.writer.untilDurable();
    if (entry) entry.receipt = receipt;
    return result;
  }

  /** Runs a write of its own (outside the group commit) and resolves once it is on disk. */
  async writeDurably<T>(write: () => T): Promise<T> {
    const result = write();
    await this.writer.untilDurable();
    return result;
  }
}
