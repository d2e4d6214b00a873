/**
 * Orphan contents (services/content-sweeper.ts): a blob no version records is removed once older
 * than the grace period; referenced, young and rewritten contents stay.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { ContentSweeper } from '../../../src/services/content-sweeper.js';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { audited } from '../../helpers/audit.js';
import { sha256 } from '../../helpers/hash.js';

const HOUR = 3_600_000;

describe('ContentSweeper', () => {
  let dir: string;
  let blobs: FileBlobStore;
  let metadata: SqliteMetadataStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bucket-sweeper-'));
    blobs = new FileBlobStore(join(dir, 'blobs'));
    await blobs.init();
    metadata = new SqliteMetadataStore(join(dir, 'bucket.db'));
  });
  afterEach(async () => {
    await metadata.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function store(bytes: Buffer, ageMs = 0): Promise<string> {
    const digest = sha256(bytes);
    const writer = await blobs.createWriter();
    await writer.write(bytes);
    await writer.commit(digest);
    if (ageMs > 0) {
      const then = new Date(Date.now() - ageMs);
      await utimes(blobs.pathOf(digest), then, then);
    }
    return digest;
  }

  async function reference(digest: string, size: number): Promise<void> {
    const version: ArtifactVersion = {
      product: 'ai_avatar',
      class: 'model_checkpoint',
      name: `ckpt/${digest.slice(0, 8)}`,
      version: 1,
      sha256: digest,
      size,
      contentType: 'application/octet-stream',
      meta: {},
      createdAt: new Date().toISOString(),
      createdBy: 'key_test',
      retention: { mode: 'compliance', until: null },
      tombstone: false,
      storage: 'blob',
    };
    const result = await metadata.commitVersion(
      audited({ version, expectedCurrentVersion: 0, inline: null }),
    );
    expect(result.ok).toBe(true);
  }

  it('removes an old content no version records, and keeps referenced and young ones', async () => {
    const kept = randomBytes(100_000);
    const referenced = await store(kept, 2 * HOUR);
    await reference(referenced, kept.length);
    const orphan = await store(randomBytes(100_000), 2 * HOUR);
    const young = await store(randomBytes(100_000));

    const sweeper = new ContentSweeper(metadata, blobs);
    expect(await sweeper.sweep()).toEqual({ checked: 2, removed: 1 });
    expect(await blobs.exists(orphan)).toBe(false);
    expect(await blobs.exists(referenced)).toBe(true);
    expect(await blobs.exists(young)).toBe(true);
    // What an earlier sweep looked at is not asked about again.
    expect(await sweeper.sweep()).toEqual({ checked: 0, removed: 0 });
  });

  it('keeps an old orphan that a write stored again (its modification time renewed)', async () => {
    const bytes = randomBytes(100_000);
    const digest = await store(bytes, 2 * HOUR);
    // The write of the same bytes lands between the sweep's listing and its removal.
    const sweeper = new ContentSweeper(metadata, blobs, {
      now: () => Date.now(),
    });
    const before = Date.now() - HOUR;
    await store(bytes);
    expect(await blobs.removeIfOlder(digest, before)).toBe(false);
    expect(await sweeper.sweep()).toEqual({ checked: 0, removed: 0 });
    expect(await blobs.exists(digest)).toBe(true);
  });
});
