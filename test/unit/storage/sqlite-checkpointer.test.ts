/**
 * WAL checkpoints off the event loop (src/storage/sqlite/checkpointer.ts, decision record 0063):
 * a busy store's writing connection stops checkpointing inside its commits, a thread copies the
 * log back into the database file instead, and a thread that fails hands the checkpoints back.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../../src/storage/sqlite/checkpointer.js';
import {
  CHECKPOINT_THREAD_AFTER_SYNCS,
  SqliteMetadataStore,
} from '../../../src/storage/sqlite/metadata.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-checkpointer-'));
  dirs.push(dir);
  return dir;
}

/** The writing connection's automatic checkpoint, in pages (0: off). */
function automaticPages(store: SqliteMetadataStore): number {
  const db = (store as unknown as { db: Database.Database }).db;
  return db.pragma('wal_autocheckpoint', { simple: true }) as number;
}

/** A database in WAL mode with one table, as a store's would be. */
async function walDatabase(schema: string): Promise<{ db: Database.Database; file: string }> {
  const file = join(await tempDir(), 'x.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(schema);
  return { db, file };
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WAL checkpoints', () => {
  it('leave the writing connection once the store is busy, and still reach the database file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bucket.db');
    const store = new SqliteMetadataStore(file);
    try {
      await store.init();
      // A store that commits now and then keeps SQLite's own checkpoints.
      expect(automaticPages(store)).toBe(1000);
      const value = 'v'.repeat(8 * 1024);
      // Each durable write is one sync: past the threshold, the thread takes over.
      for (let i = 0; i < CHECKPOINT_THREAD_AFTER_SYNCS + 1_400; i++) {
        await store.setSettingOnce(`bench:${i}`, value);
      }
      // Its own checkpoint only as a backstop far above what the thread lets the log reach.
      await until(async () => automaticPages(store) === 20_000);
      // ~12 MiB written: the pages reach the database file without the connection checkpointing.
      await until(async () => (await stat(file)).size > 10 * 1024 * 1024);
      expect(await store.getSetting('bench:1234')).toBe(value);
    } finally {
      await store.close();
    }
    // Closed and opened again, everything is there.
    const again = new SqliteMetadataStore(file);
    try {
      expect(await again.getSetting(`bench:${CHECKPOINT_THREAD_AFTER_SYNCS + 1_399}`)).toHaveLength(
        8 * 1024,
      );
    } finally {
      await again.close();
    }
  });

  it('go back to the writing connection when the thread fails', async () => {
    const { db, file } = await walDatabase('CREATE TABLE t (x)');
    try {
      const checkpointer = WalCheckpointer.start(db, file, {
        module: join(tmpdir(), 'no-such-module-for-the-checkpointer.js'),
      });
      await until(async () => db.pragma('wal_autocheckpoint', { simple: true }) === 1000);
      await checkpointer.close();
    } finally {
      db.close();
    }
  });

  it('stop with their store, the thread copying what it can meanwhile', async () => {
    const { db, file } = await walDatabase('CREATE TABLE t (x BLOB)');
    const checkpointer = WalCheckpointer.start(db, file, { intervalMs: 10 });
    try {
      const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
      for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(4096, i));
      await until(async () => checkpointer.stats.pagesCopied >= 200);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('keep the WAL bounded under a steady stream of commits', async () => {
    const { db, file } = await walDatabase('CREATE TABLE t (x BLOB)');
    db.pragma('synchronous = NORMAL');
    // A commit never finds the log fully copied: only the thread's RESTART starts it again.
    const checkpointer = WalCheckpointer.start(db, file, { intervalMs: 20, restartPages: 500 });
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    const commit = db.transaction((n: number) => {
      for (let i = 0; i < 10; i++) insert.run(Buffer.alloc(4096, n + i));
    });
    let largest = 0;
    let written = 0;
    try {
      const end = Date.now() + 3_000;
      for (let n = 0; Date.now() < end; n++) {
        commit(n);
        written += 10 * 4096;
        largest = Math.max(largest, statSync(`${file}-wal`).size);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(checkpointer.stats.restarts).toBeGreaterThan(0);
      expect(checkpointer.stats.failed).toBe(false);
    } finally {
      await checkpointer.close();
      db.close();
    }
    // Tens of MiB written; the log stayed within a few restarts' worth of pages.
    expect(written).toBeGreaterThan(20 * 1024 * 1024);
    expect(largest).toBeLessThan(12 * 1024 * 1024);
  });
});
