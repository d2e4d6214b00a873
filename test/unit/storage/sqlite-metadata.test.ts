import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { MIGRATIONS } from '../../../src/storage/sqlite/migrations.js';
import { SchemaTooNewError, SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { WalSync } from '../../../src/storage/sqlite/wal-sync.js';
import { audited, writeDraft } from '../../helpers/audit.js';
import { controlledSync, stillPending } from '../../helpers/wal.js';
import { commitNext, version } from '../../helpers/versions.js';

let dir: string;
let file: string;
let store: SqliteMetadataStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bucket-sqlite-'));
  file = join(dir, 'bucket.db');
  store = new SqliteMetadataStore(file);
  await store.init();
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const append = (v: ArtifactVersion) => commitNext(store, v);

// Commits, listings and settings are in the contract suite (metadata-contract.test.ts), run on
// SQLite and PostgreSQL alike; what stays here is SQLite's own: its lock, WAL, user_version.

/**
 * Holds the write lock of `file` from another thread (another connection) for `ms` milliseconds;
 * resolves once the lock is held. The main thread may then block inside SQLite's busy handler.
 */
async function holdLockInWorker(file: string, ms: number): Promise<Worker> {
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    db.exec('BEGIN IMMEDIATE');
    parentPort.postMessage('locked');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
    db.exec('ROLLBACK');
    db.close();
    `,
    {
      eval: true,
      workerData: { file, ms, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
    },
  );
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return worker;
}

describe('SqliteMetadataStore under a lock held by another connection', () => {
  it('waits for a briefly held write lock (busy_timeout) instead of failing the commit', async () => {
    await append(version({ name: 'locked', version: 1 }));
    const worker = await holdLockInWorker(file, 300);
    // Listened for now: the worker may end while the commit waits for its sync.
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    try {
      const result = await store.commitVersion(
        audited({
          version: version({ name: 'locked', version: 2 }),
          expectedCurrentVersion: 1,
          inline: Buffer.from('{}'),
        }),
      );
      expect(result).toMatchObject({ ok: true });
    } finally {
      await exited;
    }
  });
});

describe('SqliteMetadataStore schema versions', () => {
  it('records the schema version of this code in user_version', async () => {
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('runs in WAL mode', async () => {
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('refuses to open a database written by a newer Bucket, and leaves it untouched', async () => {
    await append(version({ name: 'a', version: 1 }));
    await store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new SqliteMetadataStore(file)).toThrow(SchemaTooNewError);
    const check = new Database(file, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
      expect(check.prepare('SELECT count(*) AS n FROM versions').get()).toEqual({ n: 1 });
    } finally {
      check.close();
    }
    // Reopen a current store so that afterEach can close it.
    const reset = new Database(file);
    reset.pragma(`user_version = ${MIGRATIONS.length}`);
    reset.close();
    store = new SqliteMetadataStore(file);
  });
});

describe('SqliteMetadataStore durability: nothing is acknowledged before the WAL is synced', () => {
  /** A store whose WAL syncs the test completes or fails, one by one. */
  async function storeWithControlledSync() {
    const { calls, sync } = controlledSync();
    const controlled = new SqliteMetadataStore(join(dir, 'controlled.db'), {
      wal: (walFile) => new WalSync(walFile, sync),
    });
    const init = controlled.init();
    // init syncs what an earlier process may have left in the WAL.
    calls.shift()?.resolve();
    await init;
    return { controlled, calls };
  }

  it('a commit and its receipt wait for the sync; the audit size (what a checkpoint signs) too', async () => {
    const { controlled, calls } = await storeWithControlledSync();
    try {
      const commit = commitNext(controlled, version({ name: 'durable', version: 1 }));
      expect(await stillPending(commit)).toBe(true);
      expect(calls).toHaveLength(1);
      // Committed in SQLite, not yet on disk: no checkpoint may cover its entry.
      expect(await controlled.auditSize()).toBe(0);
      calls.shift()?.resolve();
      const result = await commit;
      expect(result).toMatchObject({ ok: true, receipt: { leafIndex: 0 } });
      expect(await controlled.auditSize()).toBe(1);
    } finally {
      const closing = controlled.close();
      for (const call of calls) call.resolve();
      await closing;
    }
  });

  it('governance changes and audit appends wait for the sync too', async () => {
    const { controlled, calls } = await storeWithControlledSync();
    try {
      const appended = controlled.appendAudit([writeDraft(version({ name: 'a', version: 1 }))]);
      const setting = controlled.setSettingOnce('installation_id', 'abc');
      expect(await stillPending(appended)).toBe(true);
      expect(await stillPending(setting)).toBe(true);
      // Both committed while the first sync ran: the next one covers both.
      expect(calls).toHaveLength(1);
      calls.shift()?.resolve();
      expect(await stillPending(appended)).toBe(true);
      expect(calls).toHaveLength(1);
      calls.shift()?.resolve();
      expect(await appended).toHaveLength(1);
      expect(await setting).toBe('abc');
    } finally {
      const closing = controlled.close();
      for (const call of calls) call.resolve();
      await closing;
    }
  });

  it('a failed sync fails the writes it covered and every later one; ping reports it', async () => {
    const { controlled, calls } = await storeWithControlledSync();
    try {
      const commit = controlled.commitVersion(
        audited({
          version: version({ name: 'lost', version: 1 }),
          expectedCurrentVersion: 0,
          inline: null,
        }),
      );
      await stillPending(commit);
      calls.shift()?.reject(new Error('EIO: i/o error, fdatasync'));
      await expect(commit).rejects.toThrow(/could not be synced to disk \(EIO/);
      await expect(controlled.ping()).rejects.toThrow(/could not be synced/);
      await expect(
        controlled.appendAudit([writeDraft(version({ name: 'later', version: 1 }))]),
      ).rejects.toThrow(/writes stop until the disk is checked/);
      expect(calls).toHaveLength(0);
      // Nothing unsynced was ever counted as durable.
      expect(await controlled.auditSize()).toBe(0);
    } finally {
      await controlled.close();
    }
  });

  it('on the real WAL file, commits sync it and still read back', async () => {
    const synced: string[] = [];
    const real = new SqliteMetadataStore(join(dir, 'real.db'), {
      wal: (walFile) => {
        const inner = WalSync.forFile(walFile);
        return new WalSync(
          walFile,
          async () => {
            synced.push(walFile);
            await inner.barrier();
          },
          () => inner.close(),
        );
      },
    });
    await real.init();
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          commitNext(real, version({ name: `real-${i}`, version: 1 })),
        ),
      );
      expect(synced.length).toBeGreaterThanOrEqual(2);
      expect(new Set(synced)).toEqual(new Set([join(dir, 'real.db-wal')]));
      expect(await real.auditSize()).toBe(20);
      expect(
        await real.getHead({ product: 'gurukul', class: 'user_progress', name: 'real-19' }),
      ).toMatchObject({ version: 1 });
    } finally {
      await real.close();
    }
  });
});
