/**
 * A database written by a newer Bucket is never opened by an older one: the server refuses to
 * start and leaves the data as it was (the migrations of src/storage/sqlite and
 * src/storage/postgres, whichever the server runs on).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS as POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/** The schema version and the number of stored versions of a server's metadata database. */
interface SchemaAccess {
  readonly known: number;
  read(): Promise<{ schema: number; versions: number }>;
  set(schema: number): Promise<void>;
}

function schemaOf(server: ServerProcess): SchemaAccess {
  const databaseUrl = server.backend?.env['BUCKET_DATABASE_URL'];
  if (databaseUrl === undefined) {
    const file = join(server.dataDir, 'bucket.db');
    return {
      known: SQLITE_MIGRATIONS.length,
      async read() {
        const db = new Database(file, { readonly: true });
        try {
          const schema = db.pragma('user_version', { simple: true }) as number;
          const { n } = db.prepare('SELECT count(*) AS n FROM versions').get() as { n: number };
          return { schema, versions: n };
        } finally {
          db.close();
        }
      },
      async set(schema) {
        const db = new Database(file);
        db.pragma(`user_version = ${schema}`);
        db.close();
      },
    };
  }
  const query = async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) => {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      return (await db.query<T>(sql, values)).rows;
    } finally {
      await db.end();
    }
  };
  return {
    known: POSTGRES_MIGRATIONS.length,
    async read() {
      const [row] = await query<{ version: number }>('SELECT version FROM schema_version');
      const [count] = await query<{ n: string }>('SELECT count(*) AS n FROM versions');
      return { schema: row?.version ?? -1, versions: Number(count?.n ?? -1) };
    },
    async set(schema) {
      await query('UPDATE schema_version SET version = $1 WHERE id = 1', [schema]);
    },
  };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a database from a newer Bucket', () => {
  it('is refused at start, untouched, and opens again once the schema matches', async () => {
    let server = await startServerProcess();
    dirs.push(server.dataDir);
    const { dataDir } = server;
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const put = await client(server.url, key)(
      'PUT',
      '/v1/artifacts/ai_avatar/avatar_config/kept.json',
      { body: { kept: true } },
    );
    expect(put.status).toBe(201);
    await server.kill('SIGTERM');

    const schema = schemaOf(server);
    const newer = schema.known + 1;
    await schema.set(newer);

    await expect(startServerProcess({ dataDir })).rejects.toThrow(/newer than this Bucket knows/);
    expect(await schema.read()).toEqual({ schema: newer, versions: 1 });

    await schema.set(schema.known);
    server = await startServerProcess({ dataDir });
    try {
      const read = await client(server.url, key)(
        'GET',
        '/v1/artifacts/ai_avatar/avatar_config/kept.json',
      );
      expect(read.json).toEqual({ kept: true });
    } finally {
      await server.kill('SIGTERM');
    }
  });
});
