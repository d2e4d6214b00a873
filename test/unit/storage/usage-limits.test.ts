/**
 * The commit transaction re-checks the storage limits (SPEC §2.3): commits decided against the
 * same usage, submitted together (one group-commit transaction), never pass a quota together.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import type { StorageLimits } from '../../../src/domain/usage.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { audited } from '../../helpers/audit.js';

let dir: string;
let store: SqliteMetadataStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bucket-usage-'));
  store = new SqliteMetadataStore(join(dir, 'bucket.db'));
  await store.init();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const limits: StorageLimits = {
  productQuotaBytes: 1000,
  productMaxArtifacts: 100,
  totalMaxArtifacts: 100,
  totalMaxBytes: 10_000,
};

function version(name: string, size: number, product = 'gurukul'): ArtifactVersion {
  return {
    product,
    class: 'educational_content',
    name,
    version: 1,
    sha256: 'ab'.repeat(32),
    size,
    contentType: 'application/octet-stream',
    meta: {},
    createdAt: '2026-11-27T20:00:00.000Z',
    createdBy: 'key_test',
    retention: { mode: 'none', until: null },
    tombstone: false,
    storage: 'blob',
  };
}

describe('commitVersion with storage limits', () => {
  it('lets exactly as many racing commits through as the quota holds', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        store.commitVersion(
          audited({
            version: version(`n-${i}`, 100),
            expectedCurrentVersion: 0,
            inline: null,
            limits,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    for (const refused of results.filter((r) => !r.ok)) {
      expect(refused).toMatchObject({ reason: 'insufficient_storage', rule: 'quota_bytes' });
    }
    expect(await store.usage('gurukul')).toEqual({ bytes: 1000, artifacts: 10 });
  });

  it('reports the usage after each commit and sums the products into the total', async () => {
    await store.commitVersion(
      audited({
        version: version('a', 300),
        expectedCurrentVersion: 0,
        inline: null,
      }),
    );
    const result = await store.commitVersion(
      audited({
        version: version('b', 200, 'core'),
        expectedCurrentVersion: 0,
        inline: null,
        limits,
      }),
    );
    expect(result).toEqual({
      ok: true,
      usage: { product: { bytes: 200, artifacts: 1 }, total: { bytes: 500, artifacts: 2 } },
      // The second committed version is the second entry of the log.
      receipt: { leafIndex: 1, leafHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(await store.usageByProduct()).toEqual({
      gurukul: { bytes: 300, artifacts: 1 },
      core: { bytes: 200, artifacts: 1 },
    });
  });

  it('keeps the usage as committed when a commit fails in its statements, and after reopening', async () => {
    const first = await store.commitVersion(
      audited({ version: version('x', 100), expectedCurrentVersion: 0, inline: null, limits }),
    );
    expect(first.ok).toBe(true);
    // Another hand removes the head row: the next commit of x, decided as a creation, passes its
    // checks and moves the counters, then its version insert breaks the primary key.
    const other = new Database(join(dir, 'bucket.db'));
    other.prepare("DELETE FROM artifacts WHERE name = 'x'").run();
    other.close();
    await expect(
      store.commitVersion(
        audited({ version: version('x', 400), expectedCurrentVersion: 0, inline: null, limits }),
      ),
    ).rejects.toThrow(/UNIQUE/);
    expect(await store.usage('gurukul')).toEqual({ bytes: 100, artifacts: 1 });
    const result = await store.commitVersion(
      audited({ version: version('y', 50), expectedCurrentVersion: 0, inline: null, limits }),
    );
    expect(result).toMatchObject({
      ok: true,
      usage: { product: { bytes: 150, artifacts: 2 }, total: { bytes: 150, artifacts: 2 } },
    });
    await store.close();
    store = new SqliteMetadataStore(join(dir, 'bucket.db'));
    expect(await store.usageFacts('gurukul')).toEqual({
      product: { bytes: 150, artifacts: 2 },
      total: { bytes: 150, artifacts: 2 },
    });
  });
});
