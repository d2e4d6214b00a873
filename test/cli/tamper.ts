/**
 * Tampering with a stopped server's stores for `bucket audit verify` tests: each case works on a
 * copy (of the data directory's SQLite database, or of the PostgreSQL database in a scale-out
 * run), changed with plain SQL as someone with access to the files or the database would.
 */
import { randomBytes } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import { POSTGRES_ADMIN_URL } from '../helpers/services.js';
import type { TestServer } from '../helpers/server.js';
import { runCli, type CliResult } from './run.js';

/** Runs one statement; `?` placeholders in order, in both dialects. */
export type RunSql = (sql: string, params?: readonly unknown[]) => Promise<void>;

/** Verification failed (exit 1), naming every one of `messages` on stderr. */
export function expectFailure(result: CliResult, ...messages: (string | RegExp)[]): void {
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stdout).toContain('FAILED verification');
  for (const message of messages) {
    if (typeof message === 'string') expect(result.stderr).toContain(message);
    else expect(result.stderr).toMatch(message);
  }
}

/** Copies of a stopped server's stores, tampered with, and `bucket audit verify` run on each. */
export class TamperedStores {
  private copies = 0;
  private readonly databases: string[] = [];

  constructor(
    private readonly server: TestServer,
    private readonly work: string,
  ) {}

  /** Verifies a copy of the stores after `tamper`; the server must be stopped. */
  async verify(tamper: (sql: RunSql) => Promise<void>, ...args: string[]): Promise<CliResult> {
    const databaseUrl = this.server.backend?.env['BUCKET_DATABASE_URL'];
    const dir = join(this.work, `copy-${this.copies++}`);
    await cp(this.server.dataDir, dir, { recursive: true });
    if (databaseUrl === undefined) {
      const db = new Database(join(dir, 'bucket.db'));
      try {
        await tamper(async (sql, params = []) => void db.prepare(sql).run(...params));
      } finally {
        db.close();
      }
      return runCli(['audit', 'verify', '--data-dir', dir, ...args]);
    }
    const copyUrl = await this.copyDatabase(databaseUrl);
    const client = new pg.Client({ connectionString: copyUrl });
    await client.connect();
    try {
      await tamper(async (sql, params = []) => {
        let n = 0;
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          [...params],
        );
      });
    } finally {
      await client.end();
    }
    return runCli(['audit', 'verify', ...args], {
      env: { ...this.server.backend?.env, BUCKET_DATABASE_URL: copyUrl, BUCKET_DATA_DIR: dir },
    });
  }

  private async copyDatabase(databaseUrl: string): Promise<string> {
    const source = new URL(databaseUrl);
    const name = `${source.pathname.slice(1)}_t${randomBytes(3).toString('hex')}`;
    await this.admin(`CREATE DATABASE ${name} TEMPLATE ${source.pathname.slice(1)}`);
    this.databases.push(name);
    const copy = new URL(databaseUrl);
    copy.pathname = `/${name}`;
    return copy.toString();
  }

  private async admin(sql: string): Promise<void> {
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  }

  async dispose(): Promise<void> {
    for (const name of this.databases)
      await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}
