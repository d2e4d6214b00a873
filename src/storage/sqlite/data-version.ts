/**
 * Whether another process committed to the database since the last look (issue 21: several
 * processes over one data directory). SQLite's `PRAGMA data_version` changes on a connection
 * whenever another connection commits, never for the connection's own commits; reading it costs
 * no read transaction. Each consumer of the news (the writer's in-memory state, the head cache,
 * the services' caches) keeps its own watch, so that one consumer's look does not hide the change
 * from another.
 */
import type Database from 'better-sqlite3';

export class DataVersion {
  private readonly statement: Database.Statement<[], number>;

  constructor(db: Database.Database) {
    this.statement = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  get current(): number {
    return this.statement.get() ?? 0;
  }

  /** A watch that answers true once for every look after another process committed. */
  watch(): () => boolean {
    let last = this.current;
    return () => {
      const now = this.current;
      if (now === last) return false;
      last = now;
      return true;
    };
  }
}
