/**
 * Leases among the processes of one data directory (storage/sqlite/leases.ts): one holder at a
 * time across connections; free again when its holder is done, when it expired, or when the
 * process that held it no longer exists (killed mid-sweep).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLeases } from '../../../src/storage/sqlite/leases.js';

describe('SqliteLeases', () => {
  let dir: string;
  let first: Database.Database;
  let second: Database.Database;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bucket-leases-'));
    const file = join(dir, 'bucket.db');
    first = new Database(file);
    first.pragma('journal_mode = WAL');
    first.exec('CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
    // A second connection, as another worker process has.
    second = new Database(file);
  });
  afterEach(async () => {
    first.close();
    second.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets one holder at a time run, across connections, and frees the lease when done', async () => {
    const a = new SqliteLeases(first);
    const b = new SqliteLeases(second);
    let release!: () => void;
    const held = a.exclusively(
      'sweep',
      () => new Promise<string>((done) => (release = () => done('a'))),
    );
    expect(await b.exclusively('sweep', async () => 'b')).toBeNull();
    // Another lease's name is free.
    expect(await b.exclusively('scrub', async () => 'scrub')).toBe('scrub');
    release();
    expect(await held).toBe('a');
    expect(await b.exclusively('sweep', async () => 'b')).toBe('b');
    expect(
      first.prepare("SELECT count(*) AS n FROM settings WHERE key LIKE 'lease:%'").get(),
    ).toEqual({
      n: 0,
    });
  });

  it('frees the lease of a process that no longer exists, and an expired one', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const write = first.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)');
    const until = Date.now() + 3_600_000;
    write.run('lease:sweep', JSON.stringify({ pid: gone, until, token: 'dead' }));
    const leases = new SqliteLeases(second);
    expect(await leases.exclusively('sweep', async () => 'taken')).toBe('taken');

    // This very process is alive, but its lease ran out without being renewed.
    write.run(
      'lease:sweep',
      JSON.stringify({ pid: process.pid, until: Date.now() - 1, token: 'x' }),
    );
    expect(await leases.exclusively('sweep', async () => 'again')).toBe('again');
    write.run('lease:sweep', JSON.stringify({ pid: process.pid, until, token: 'live' }));
    expect(await leases.exclusively('sweep', async () => 'refused')).toBeNull();
  });

  it('releases the lease when its work fails', async () => {
    const leases = new SqliteLeases(first);
    await expect(
      leases.exclusively('sweep', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await new SqliteLeases(second).exclusively('sweep', async () => 1)).toBe(1);
  });
});
