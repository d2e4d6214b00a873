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

function version(
  fields: Partial<ArtifactVersion> & Pick<ArtifactVersion, 'name' | 'version'>,
): ArtifactVersion {
  return {
    product: 'gurukul',
    class: 'user_progress',
    sha256: fields.version.toString(16).padStart(64, '0'),
    size: 10,
    contentType: 'application/json',
    meta: {},
    createdAt: '2026-11-27T20:00:00.000Z',
    createdBy: 'key_test',
    retention: { mode: 'governance', until: '2027-11-27T20:00:00.000Z' },
    tombstone: false,
    storage: 'inline',
    ...fields,
  };
}

/** Commits `v` against the current head, as the service does. */
async function append(v: ArtifactVersion, inline: Buffer | null = Buffer.from('{"n":1}')) {
  const result = await store.commitVersion(
    audited({
      version: v,
      expectedCurrentVersion: v.version - 1,
      inline: v.storage === 'inline' ? inline : null,
    }),
  );
  expect(result).toMatchObject({ ok: true });
}

describe('SqliteMetadataStore.commitVersion', () => {
  it('commits a first version and makes it the head, with its inline bytes', async () => {
    const v1 = version({ name: 'a', version: 1, meta: { source: 'test' } });
    await append(v1, Buffer.from('{"a":1}'));
    const key = { product: 'gurukul', class: 'user_progress', name: 'a' };
    expect(await store.getHead(key)).toEqual(v1);
    expect(await store.getVersion(key, 1)).toEqual(v1);
    expect((await store.readInline(key, 1))?.toString()).toBe('{"a":1}');
  });

  it('refuses a commit when the head moved since the decision', async () => {
    await append(version({ name: 'a', version: 1 }));
    const stale = await store.commitVersion(
      audited({
        version: version({ name: 'a', version: 1, sha256: 'f'.repeat(64) }),
        expectedCurrentVersion: 0,
        inline: Buffer.from('{}'),
      }),
    );
    expect(stale).toEqual({ ok: false, reason: 'version_conflict', current: 1 });
    await append(version({ name: 'a', version: 2 }));
    const alsoStale = await store.commitVersion(
      audited({
        version: version({ name: 'a', version: 2 }),
        expectedCurrentVersion: 1,
        inline: Buffer.from('{}'),
      }),
    );
    expect(alsoStale).toEqual({ ok: false, reason: 'version_conflict', current: 2 });
    const key = { product: 'gurukul', class: 'user_progress', name: 'a' };
    expect((await store.listVersions(key)).map((v) => v.sha256)).toEqual([
      version({ name: 'a', version: 1 }).sha256,
      version({ name: 'a', version: 2 }).sha256,
    ]);
  });

  it('lets exactly one of two writers decided against the same head commit', async () => {
    await append(version({ name: 'race', version: 1 }));
    const attempt = (sha: string) =>
      store.commitVersion(
        audited({
          version: version({ name: 'race', version: 2, sha256: sha }),
          expectedCurrentVersion: 1,
          inline: Buffer.from('{}'),
        }),
      );
    const results = await Promise.all([attempt('1'.repeat(64)), attempt('2'.repeat(64))]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([
      { ok: false, reason: 'version_conflict', current: 2 },
    ]);
  });

  it('counts the bytes of every version and each artifact once', async () => {
    await append(version({ name: 'a', version: 1, size: 100 }));
    await append(version({ name: 'a', version: 2, size: 50 }));
    await append(version({ name: 'b', version: 1, size: 7 }));
    await append(version({ name: 'c', version: 1, size: 1, product: 'core', class: 'agent_spec' }));
    expect(await store.usage('gurukul')).toEqual({ bytes: 157, artifacts: 2 });
    expect(await store.usage('core')).toEqual({ bytes: 1, artifacts: 1 });
    expect(await store.usage('ai_avatar')).toEqual({ bytes: 0, artifacts: 0 });
  });

  it('leaves the usage counters unchanged by a refused commit', async () => {
    await append(version({ name: 'a', version: 1, size: 100 }));
    await store.commitVersion(
      audited({
        version: version({ name: 'a', version: 1, size: 999 }),
        expectedCurrentVersion: 0,
        inline: Buffer.from('{}'),
      }),
    );
    expect(await store.usage('gurukul')).toEqual({ bytes: 100, artifacts: 1 });
  });

  it('keeps committed versions across a close and reopen', async () => {
    await append(version({ name: 'kept', version: 1 }));
    await store.close();
    store = new SqliteMetadataStore(file);
    await store.init();
    const head = await store.getHead({ product: 'gurukul', class: 'user_progress', name: 'kept' });
    expect(head?.version).toBe(1);
  });
});

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

describe('SqliteMetadataStore.listArtifacts', () => {
  const names = (items: ArtifactVersion[]) => items.map((v) => `${v.class}:${v.name}`);

  beforeEach(async () => {
    for (const [classId, name] of [
      ['user_progress', 'b'],
      ['educational_content', 'z'],
      ['user_progress', 'a/2'],
      ['user_progress', 'a/10'],
      ['educational_content', 'a'],
      ['user_progress', 'a_x'],
      ['user_progress', 'a%y'],
    ] as const) {
      await append(version({ class: classId, name, version: 1 }));
    }
    await append(version({ product: 'ai_avatar', class: 'avatar_config', name: 'a', version: 1 }));
  });

  it("lists one product's live heads in (class, name) byte order", async () => {
    const items = await store.listArtifacts({ product: 'gurukul', limit: 100 });
    expect(names(items)).toEqual([
      'educational_content:a',
      'educational_content:z',
      'user_progress:a%y',
      'user_progress:a/10',
      'user_progress:a/2',
      'user_progress:a_x',
      'user_progress:b',
    ]);
  });

  it('pages with an exclusive cursor and visits every item exactly once', async () => {
    const all = names(await store.listArtifacts({ product: 'gurukul', limit: 100 }));
    const seen: string[] = [];
    let after: { class: string; name: string } | undefined;
    for (;;) {
      const page = await store.listArtifacts({ product: 'gurukul', limit: 3, after });
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...names(page));
      const last = page[page.length - 1];
      if (!last) break;
      after = { class: last.class, name: last.name };
    }
    expect(seen).toEqual(all);
  });

  it('treats a cursor as a bound across classes', async () => {
    const page = await store.listArtifacts({
      product: 'gurukul',
      limit: 100,
      after: { class: 'educational_content', name: 'zz' },
    });
    expect(names(page)[0]).toBe('user_progress:a%y');
    const nothing = await store.listArtifacts({
      product: 'gurukul',
      limit: 100,
      after: { class: 'user_progress', name: 'b' },
    });
    expect(nothing).toEqual([]);
  });

  it('filters by class and by a literal prefix (% and _ are not wildcards)', async () => {
    const byClass = await store.listArtifacts({
      product: 'gurukul',
      class: 'educational_content',
      limit: 100,
    });
    expect(names(byClass)).toEqual(['educational_content:a', 'educational_content:z']);
    const slash = await store.listArtifacts({ product: 'gurukul', prefix: 'a/', limit: 100 });
    expect(names(slash)).toEqual(['user_progress:a/10', 'user_progress:a/2']);
    const underscore = await store.listArtifacts({ product: 'gurukul', prefix: 'a_', limit: 100 });
    expect(names(underscore)).toEqual(['user_progress:a_x']);
    const percent = await store.listArtifacts({ product: 'gurukul', prefix: 'a%', limit: 100 });
    expect(names(percent)).toEqual(['user_progress:a%y']);
  });

  it('leaves tombstoned artifacts out and shows their latest version once restored', async () => {
    await append(version({ name: 'b', version: 2, tombstone: true, storage: 'none', size: 0 }));
    const after = names(await store.listArtifacts({ product: 'gurukul', limit: 100 }));
    expect(after).not.toContain('user_progress:b');
    const key = { product: 'gurukul', class: 'user_progress', name: 'b' };
    expect((await store.getHead(key))?.tombstone).toBe(true);
    await append(version({ name: 'b', version: 3 }));
    const restored = await store.listArtifacts({ product: 'gurukul', prefix: 'b', limit: 100 });
    expect(restored.map((v) => v.version)).toEqual([3]);
  });

  it('honours the limit', async () => {
    expect(await store.listArtifacts({ product: 'gurukul', limit: 2 })).toHaveLength(2);
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

  it('keeps a setting set once', async () => {
    expect(await store.setSettingOnce('installation_id', 'first')).toBe('first');
    expect(await store.setSettingOnce('installation_id', 'second')).toBe('first');
    expect(await store.getSetting('installation_id')).toBe('first');
    expect(await store.getSetting('missing')).toBeNull();
  });
});
