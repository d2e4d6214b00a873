/**
 * Plain SQL against a running test server's metadata database, as someone with access to the
 * database would run it beside the Bucket: the data directory's SQLite file (a second connection,
 * WAL), or the PostgreSQL database of a scale-out run. `?` placeholders in both dialects.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { TestServer } from './server.js';

export async function liveSql(
  server: Pick<TestServer, 'dataDir' | 'backend'>,
  sql: string,
  params: readonly unknown[] = [],
): Promise<void> {
  const url = server.backend?.env['BUCKET_DATABASE_URL'];
  if (url === undefined) {
    const db = new Database(join(server.dataDir, 'bucket.db'));
    try {
      db.pragma('busy_timeout = 5000');
      if (params.length === 0) db.exec(sql);
      else db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let n = 0;
    await client.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params as unknown[],
    );
  } finally {
    await client.end();
  }
}

/** Whether the test server runs on PostgreSQL (its SQL differs for triggers and functions). */
export function onPostgres(server: Pick<TestServer, 'backend'>): boolean {
  return server.backend?.env['BUCKET_DATABASE_URL'] !== undefined;
}
