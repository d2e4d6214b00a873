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
import { audited } from '../../helpers/audit.js';
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
      await new Promise((resolve) => worker.once('exit', resolve));
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
