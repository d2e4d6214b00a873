import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteGroupCommit } from '../../../src/storage/sqlite/group-commit.js';

describe('group commit (SQLite)', () => {
  let db: Database.Database;
  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  });
  afterEach(() => db.close());

  it('settles every write of a turn with its own result, once committed', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const committer = sqliteGroupCommit(db, (item: { k: string; v: number }) => {
      insert.run(item.k, item.v);
      return item.v * 2;
    });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => committer.submit({ k: `k${i}`, v: i })),
    );
    expect(results).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 25 });
  });

  it('rolls back only the write that throws; the others of the batch commit', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const committer = sqliteGroupCommit(db, (item: { k: string; v: number }) => {
      insert.run(item.k, item.v);
      // The insert above ran; throwing afterwards must undo it (savepoint), not the batch.
      if (item.v < 0) throw new Error('negative');
      return 'ok';
    });
    const settled = await Promise.allSettled([
      committer.submit({ k: 'a', v: 1 }),
      committer.submit({ k: 'bad', v: -1 }),
      committer.submit({ k: 'c', v: 3 }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT k FROM t ORDER BY k').all()).toEqual([{ k: 'a' }, { k: 'c' }]);
  });

  it('a write that throws leaves memory kept beside the database to be reloaded, and the rest commits once', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    // State kept in memory beside the table, like the audit tree's edge: moved by each write,
    // reloaded from the table after a rollback.
    const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM t');
    let inMemory = 0;
    const committer = sqliteGroupCommit(
      db,
      (item: { k: string; v: number }) => {
        insert.run(item.k, item.v);
        inMemory += 1;
        if (item.v < 0) throw new Error('negative');
        return inMemory;
      },
      () => {
        inMemory = count.get()?.n ?? 0;
      },
    );
    const settled = await Promise.allSettled(
      [1, 2, -1, 4, 5].map((v) => committer.submit({ k: `k${v}`, v })),
    );
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    // Each write saw the ones before it that stand, never the rolled-back one.
    expect(settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))).toEqual([
      1, 2, 3, 4,
    ]);
    expect(count.get()).toEqual({ n: 4 });
    expect(inMemory).toBe(4);
  });

  it('a later write of the same batch sees the earlier ones', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM t');
    const committer = sqliteGroupCommit(db, (k: string) => {
      insert.run(k, 0);
      return count.get()?.n;
    });
    expect(await Promise.all(['x', 'y', 'z'].map((k) => committer.submit(k)))).toEqual([1, 2, 3]);
  });

  it('never acknowledges writes nested in a transaction it does not own', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const committer = sqliteGroupCommit(db, (k: string) => insert.run(k, 0).changes);
    db.exec('BEGIN'); // a foreign open transaction whose ROLLBACK would undo the batch
    const settled = await Promise.allSettled([committer.submit('a'), committer.submit('b')]);
    db.exec('ROLLBACK');
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
  });

  it('rejects every write of a batch whose transaction fails', async () => {
    const committer = sqliteGroupCommit(db, (k: string) => k);
    const pending = [committer.submit('a'), committer.submit('b')];
    db.close(); // the batch runs on the next turn, on a closed connection
    const settled = await Promise.allSettled(pending);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    db = new Database(':memory:'); // for afterEach
  });

  it('acknowledges a committed batch only once `untilDurable` (the durability barrier) resolves', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    let release: () => void = () => undefined;
    let settles = 0;
    const committer = sqliteGroupCommit(
      db,
      (item: { k: string; v: number }) => insert.run(item.k, item.v).changes,
      undefined,
      {
        untilDurable: () => {
          settles += 1;
          return new Promise<void>((resolve) => (release = resolve));
        },
        syncInProgress: () => null,
      },
    );
    let acknowledged = 0;
    const writes = [committer.submit({ k: 'a', v: 1 }), committer.submit({ k: 'b', v: 2 })].map(
      (write) => write.then(() => (acknowledged += 1)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // Committed (visible to this connection), not acknowledged.
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    expect(settles).toBe(1);
    expect(acknowledged).toBe(0);
    release();
    await Promise.all(writes);
    expect(acknowledged).toBe(2);
  });

  it('fails every write of a batch whose durability barrier fails, though it committed', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const committer = sqliteGroupCommit(
      db,
      (item: { k: string; v: number }) => insert.run(item.k, item.v).changes,
      undefined,
      { untilDurable: () => Promise.reject(new Error('disk gone')), syncInProgress: () => null },
    );
    const settled = await Promise.allSettled([
      committer.submit({ k: 'a', v: 1 }),
      committer.submit({ k: 'b', v: 2 }),
    ]);
    expect(settled).toEqual([
      { status: 'rejected', reason: new Error('disk gone') },
      { status: 'rejected', reason: new Error('disk gone') },
    ]);
  });

  it('holds writes while a sync runs and commits them together the moment it ends', async () => {
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM t');
    let endSync: () => void = () => undefined;
    let running: Promise<void> | null = new Promise<void>((resolve) => (endSync = resolve));
    const committer = sqliteGroupCommit(
      db,
      (item: { k: string; v: number }) => insert.run(item.k, item.v).changes,
      undefined,
      { untilDurable: () => Promise.resolve(), syncInProgress: () => running },
    );
    const writes: Promise<number>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      writes.push(committer.submit({ k: `k${turn}`, v: turn }));
      // Several turns of the event loop while the disk is busy: nothing commits yet.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(count.get()?.n).toBe(0);
    running = null;
    endSync();
    await writes[0];
    // One batch: by the time the first is acknowledged, all five have committed.
    expect(count.get()?.n).toBe(5);
    expect(await Promise.all(writes)).toEqual([1, 1, 1, 1, 1]);
    // With the disk idle, a write commits on the next turn again.
    await committer.submit({ k: 'later', v: 9 });
    expect(count.get()?.n).toBe(6);
  });
});
