import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { HeadCache } from '../../../src/storage/sqlite/head-cache.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { audited } from '../../helpers/audit.js';

const key = { product: 'ai_avatar', class: 'avatar_config', name: 'a.json' };

function version(n: number, overrides: Partial<ArtifactVersion> = {}): ArtifactVersion {
  return {
    ...key,
    version: n,
    sha256: String(n).repeat(64).slice(0, 64),
    size: 2,
    contentType: 'application/json',
    meta: {},
    createdAt: new Date().toISOString(),
    createdBy: 'key_test',
    retention: { mode: 'compliance', until: null },
    tombstone: false,
    storage: 'inline',
    ...overrides,
  };
}

describe('HeadCache', () => {
  it('evicts the least recently used entries beyond its entry and byte bounds', () => {
    const cache = new HeadCache({ maxEntries: 2, maxBytes: 10 });
    const k = (name: string) => ({ ...key, name });
    cache.set(k('a'), { version: version(1), inline: Buffer.alloc(4) });
    cache.set(k('b'), { version: version(1), inline: Buffer.alloc(4) });
    cache.get(k('a')); // a is now the most recent
    cache.set(k('c'), { version: version(1), inline: Buffer.alloc(4) });
    expect(cache.get(k('b'))).toBeUndefined();
    expect(cache.get(k('a'))).toBeDefined();
    expect(cache.size).toBe(2);
    cache.set(k('d'), { version: version(1), inline: Buffer.alloc(9) }); // over 10 bytes with a/c
    expect(cache.size).toBe(1);
    expect(cache.get(k('d'))).toBeDefined();
  });
});

describe('SQLite heads through the cache', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'head-cache-'));
    store = new SqliteMetadataStore(join(dir, 'bucket.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never serves a head older than the last commit, tombstones included', async () => {
    await store.commitVersion(
      audited({
        version: version(1),
        expectedCurrentVersion: 0,
        inline: Buffer.from('{}'),
      }),
    );
    expect((await store.getForRead(key))?.version.version).toBe(1);
    expect((await store.getHead(key))?.version).toBe(1); // now cached
    await store.commitVersion(
      audited({
        version: version(2),
        expectedCurrentVersion: 1,
        inline: Buffer.from('[]'),
      }),
    );
    const second = await store.getForRead(key);
    expect(second?.version.version).toBe(2);
    expect(second?.inline?.toString()).toBe('[]');
    await store.commitVersion(
      audited({
        version: version(3, { tombstone: true, storage: 'none', size: 0 }),
        expectedCurrentVersion: 2,
        inline: null,
      }),
    );
    expect((await store.getHead(key))?.tombstone).toBe(true);
    // A refused commit leaves the cached head as it was in the database.
    const refused = await store.commitVersion(
      audited({
        version: version(4),
        expectedCurrentVersion: 1,
        inline: null,
      }),
    );
    expect(refused.ok).toBe(false);
    expect((await store.getHead(key))?.version).toBe(3);
  });
});
