/**
 * Another program holding SQLite's write lock (a backup, the sqlite3 shell) never freezes the
 * embedded store's event loop: every write waits for the lock off the loop (write-lock.ts), and
 * goes through once the lock is released.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

it('keeps serving while another program holds the write lock, and writes once it is released', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-external-lock-'));
  dirs.push(dir);
  const file = join(dir, 'bucket.db');
  const store = new SqliteMetadataStore(file);
  await store.init();
  const other = new Database(file);
  try {
    other.exec('BEGIN IMMEDIATE');
    // The loop turns meanwhile: a timer set now fires on time, not after SQLite's busy timeout.
    const started = Date.now();
    const write = store.setSettingOnce('external-lock', 'written');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await store.getSetting('external-lock')).toBeNull();
    setTimeout(() => other.exec('ROLLBACK'), 300);
    await expect(write).resolves.toBe('written');
    expect(await store.getSetting('external-lock')).toBe('written');
  } finally {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    await store.close();
  }
});
