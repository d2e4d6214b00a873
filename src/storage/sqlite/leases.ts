/**
 * Leases among the processes sharing one data directory (the `BUCKET_WORKERS` processes, decision
 * 0046): one retention sweep or scrub at a time, as PostgreSQL's advisory locks do across nodes.
 * A lease is a row of `settings` (`lease:<name>` → `{pid, until, token}`), taken in an IMMEDIATE
 * transaction when it is free: absent, expired, or held by a process that no longer exists (one
 * killed mid-run). Its holder renews it while it runs and deletes it when done; a holder that
 * stops renewing loses it after TTL_MS. The processes are those of one machine and one PID
 * namespace (a data directory is local to its machine, SQLite's own rule; never share one between
 * containers): a holder's pid that no longer runs is a holder that died.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { processRunning } from '../data-dir-lock.js';
import { writeLockOf } from './write-lock.js';

const TTL_MS = 60_000;
const RENEW_MS = 15_000;

interface LeaseValue {
  readonly pid: number;
  readonly until: number;
  readonly token: string;
}

function parse(value: string): LeaseValue | null {
  try {
    const parsed = JSON.parse(value) as Partial<LeaseValue>;
    return typeof parsed.pid === 'number' &&
      typeof parsed.until === 'number' &&
      typeof parsed.token === 'string'
      ? (parsed as LeaseValue)
      : null;
  } catch {
    return null;
  }
}

export class SqliteLeases {
  private readonly statements;
  private readonly take: (key: string, token: string) => Promise<boolean>;
  /** Through the write lock, off the event loop (write-lock.ts). */
  private readonly write: <T>(write: () => T) => T | Promise<T>;

  constructor(
    db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.write = writeLockOf(db);
    this.statements = {
      read: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      write: db.prepare<[string, string]>(
        'INSERT INTO settings (key, value) VALUES (?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      renew: db.prepare<[number, string, string]>(
        "UPDATE settings SET value = json_set(value, '$.until', ?) " +
          "WHERE key = ? AND json_extract(value, '$.token') = ?",
      ),
      release: db.prepare<[string, string]>(
        "DELETE FROM settings WHERE key = ? AND json_extract(value, '$.token') = ?",
      ),
    };
    const take = db.transaction((key: string, token: string): boolean => {
      const row = this.statements.read.get(key);
      const held = row ? parse(row.value) : null;
      if (held && held.until > this.now() && processRunning(held.pid)) return false;
      const value: LeaseValue = { pid: process.pid, until: this.now() + TTL_MS, token };
      this.statements.write.run(key, JSON.stringify(value));
      return true;
    });
    this.take = async (key, token) => this.write(() => take.immediate(key, token));
  }

  /** Runs `fn` holding the lease `name`; null at once when another holder (any process) has it. */
  async exclusively<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    const key = `lease:${name}`;
    const token = randomUUID();
    if (!(await this.take(key, token))) return null;
    const renewal = setInterval(() => {
      // A busy database: the next renewal tries again, well within the TTL.
      void Promise.resolve()
        .then(() => this.write(() => this.statements.renew.run(this.now() + TTL_MS, key, token)))
        .catch(() => undefined);
    }, RENEW_MS);
    renewal.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      // A release the database refuses (busy past the wait) leaves the lease to expire: it must
      // not turn the work's own outcome into an error.
      await Promise.resolve()
        .then(() => this.write(() => this.statements.release.run(key, token)))
        .catch(() => undefined);
    }
  }
}
