/**
 * A data directory written by a newer Bucket is never opened by an older one: the server refuses
 * to start and leaves the data as it was (src/storage/sqlite/metadata.ts, MIGRATIONS).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { client, createKey, startTestServer } from '../helpers/server.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a database from a newer Bucket', () => {
  it('is refused at start, untouched, and opens again once the schema matches', async () => {
    let server = await startTestServer();
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

    const newer = MIGRATIONS.length + 1;
    const db = new Database(join(dataDir, 'bucket.db'));
    db.pragma(`user_version = ${newer}`);
    db.close();

    await expect(startTestServer({ dataDir })).rejects.toThrow(/newer than this Bucket knows/);

    const check = new Database(join(dataDir, 'bucket.db'), { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(newer);
      expect(check.prepare('SELECT count(*) AS n FROM versions').get()).toEqual({ n: 1 });
    } finally {
      check.close();
    }

    const reset = new Database(join(dataDir, 'bucket.db'));
    reset.pragma(`user_version = ${MIGRATIONS.length}`);
    reset.close();
    server = await startTestServer({ dataDir });
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
