/**
 * The PostgreSQL store as several nodes see it: two stores (two pools, as two processes would
 * have) on one database build one audit tree, resolve version races, read consistent snapshots
 * and migrate once when they start together.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CompactRange, decompose, foldSubtrees } from '../../../src/audit/compact.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { MIGRATIONS } from '../../../src/storage/postgres/migrations.js';
import { PostgresMetadataStore } from '../../../src/storage/postgres/metadata.js';
import type { CommitResult } from '../../../src/storage/ports.js';
import { audited, writeDraft } from '../../helpers/audit.js';
import { createTestDatabase, serviceAvailable } from '../../helpers/services.js';

const available = await serviceAvailable('postgres');

function version(name: string, n: number): ArtifactVersion {
  return {
    product: 'gurukul',
    class: 'user_progress',
    name,
    version: n,
    sha256: n.toString(16).padStart(64, '0'),
    size: 10,
    contentType: 'application/json',
    meta: {},
    createdAt: '2026-11-27T20:00:00.000Z',
    createdBy: 'key_test',
    retention: { mode: 'governance', until: null },
    tombstone: false,
    storage: 'inline',
  };
}

describe.skipIf(!available)('PostgresMetadataStore across nodes', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const stores: PostgresMetadataStore[] = [];

  async function node(options: { readonly?: boolean } = {}): Promise<PostgresMetadataStore> {
    const store = new PostgresMetadataStore(database.url, options);
    stores.push(store);
    await store.init();
    return store;
  }

  beforeEach(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await database.drop();
  });

  it('migrates once when two nodes start together, and refuses a newer schema', async () => {
    const [a, b] = [
      new PostgresMetadataStore(database.url),
      new PostgresMetadataStore(database.url),
    ];
    stores.push(a, b);
    await Promise.all([a.init(), b.init()]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM schema_version');
      expect(rows).toEqual([{ version: MIGRATIONS.length }]);
    } finally {
      await client.end();
    }
    // Starting again changes nothing.
    await (await node()).ping();
  });

  it('read-only: never creates a schema, and refuses one it does not know', async () => {
    const reader = new PostgresMetadataStore(database.url, { readonly: true });
    stores.push(reader);
    await expect(reader.init()).rejects.toThrow(/no Bucket schema/);
    const writer = await node();
    await writer.appendAudit([writeDraft(version('a', 1))]);
    const ok = await node({ readonly: true });
    expect(await ok.auditSize()).toBe(1);
    await expect(ok.appendAudit([writeDraft(version('a', 1))])).rejects.toThrow(/read-only/);
  });

  it('builds one gap-free tree from two nodes appending and committing concurrently', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const appends = (store: PostgresMetadataStore, tag: string) =>
      Array.from({ length: 450 }, (_, i) =>
        store.appendAudit([writeDraft(version(`${tag}-${i}`, 1))]),
      );
    const commits = (store: PostgresMetadataStore, tag: string) =>
      Array.from({ length: 50 }, (_, i) =>
        store.commitVersion(
          audited({ version: version(`${tag}-v${i}`, 1), expectedCurrentVersion: 0, inline: null }),
        ),
      );
    const results = await Promise.all([
      ...appends(a, 'a'),
      ...commits(b, 'b'),
      ...appends(b, 'b'),
      ...commits(a, 'a'),
    ]);
    const indices = results
      .flatMap((r) => (Array.isArray(r) ? r : r.ok ? [r.receipt] : []))
      .map((receipt) => receipt.leafIndex)
      .sort((x, y) => x - y);
    expect(indices).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const size = await a.auditSize();
    expect(size).toBe(1000);
    expect(await b.auditSize()).toBe(1000);

    const recomputed = CompactRange.empty();
    let expectedIndex = 0;
    for await (const entry of b.auditRange(0, size)) {
      expect(entry.index).toBe(expectedIndex++);
      expect(JSON.parse(entry.canonical.toString()).index).toBe(entry.index);
      recomputed.append(entry.leafHash);
    }
    const ids = decompose(0, size);
    expect(foldSubtrees(await a.auditSubtrees(ids), ids)).toEqual(recomputed.root());
    expect(await a.usage('gurukul')).toEqual({ bytes: 1000, artifacts: 100 });
  });

  it('lets exactly one node win each version of a name both write', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    for (let n = 1; n <= 10; n++) {
      const attempt = (store: PostgresMetadataStore, sha: string) =>
        store.commitVersion(
          audited({
            version: { ...version('contested', n), sha256: sha.repeat(64) },
            expectedCurrentVersion: n - 1,
            inline: Buffer.from(sha),
          }),
        );
      const results: CommitResult[] = await Promise.all([attempt(a, 'a'), attempt(b, 'b')]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([
        { ok: false, reason: 'version_conflict', current: n },
      ]);
    }
    const key = { product: 'gurukul', class: 'user_progress', name: 'contested' };
    expect((await a.listVersions(key)).map((v) => v.version)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(await b.auditSize()).toBe(10);
    expect(await b.usage('gurukul')).toEqual({ bytes: 100, artifacts: 1 });
  });

  /** Commits version 1 of `name` (10 bytes) on `store`, under a product quota of `quota` bytes. */
  const writeUnderQuota =
    (quota: number) =>
    (store: PostgresMetadataStore, name: string): Promise<CommitResult> =>
      store.commitVersion({
        ...audited({ version: version(name, 1), expectedCurrentVersion: 0, inline: null }),
        limits: {
          productQuotaBytes: quota,
          productMaxArtifacts: 100,
          totalMaxArtifacts: 100,
          totalMaxBytes: 1000,
        },
      });

  it('re-checks limits across nodes: concurrent writers cannot pass a quota together', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const write = writeUnderQuota(55);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => write(i % 2 === 0 ? a : b, `n${i}`)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(await a.usage('gurukul')).toEqual({ bytes: 50, artifacts: 5 });
    expect(await a.auditSize()).toBe(5);
  });

  it('answers usage from a short-lived copy, while every commit checks limits against the rows', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const write = writeUnderQuota(25);
    const empty = { product: { bytes: 0, artifacts: 0 }, total: { bytes: 0, artifacts: 0 } };
    expect(await b.usageFacts('gurukul')).toEqual(empty);
    expect(await write(a, 'first')).toMatchObject({ ok: true });
    expect(await write(a, 'second')).toMatchObject({ ok: true });
    // Node a's own commits are in its copy at once, and a batch of appends alone keeps it.
    const twenty = { product: { bytes: 20, artifacts: 2 }, total: { bytes: 20, artifacts: 2 } };
    expect(await a.usageFacts('gurukul')).toEqual(twenty);
    await a.appendAudit([writeDraft(version('read', 1))]);
    expect(await a.usageFacts('gurukul')).toEqual(twenty);
    // Node b's copy may still say 0 bytes; its commit is checked against the rows, and refused.
    expect(await write(b, 'third')).toMatchObject({ ok: false, reason: 'insufficient_storage' });
    // Within a moment, b's copy has caught up.
    await vi.waitFor(async () => expect(await b.usageFacts('gurukul')).toEqual(twenty), {
      timeout: 2000,
      interval: 50,
    });
  });

  it('reads one fixed state inside withReadSnapshot while another node appends', async () => {
    const writer = await node();
    await writer.appendAudit(Array.from({ length: 5 }, () => writeDraft(version('s', 1))));
    const reader = await node({ readonly: true });
    const seen = await reader.withReadSnapshot(async () => {
      const before = await reader.auditSize();
      await writer.appendAudit(Array.from({ length: 3 }, () => writeDraft(version('s', 1))));
      await writer.commitVersion(
        audited({ version: version('during', 1), expectedCurrentVersion: 0, inline: null }),
      );
      const entries: number[] = [];
      for await (const entry of reader.auditRange(0, 100)) entries.push(entry.index);
      return {
        before,
        after: await reader.auditSize(),
        entries: entries.length,
        head: await reader.getHead({ product: 'gurukul', class: 'user_progress', name: 'during' }),
        subtrees: await reader.auditSubtrees(decompose(0, before)),
      };
    });
    expect(seen).toMatchObject({ before: 5, after: 5, entries: 5, head: null });
    expect(seen.subtrees).toHaveLength(2);
    expect(await reader.auditSize()).toBe(9);
  });

  it('waits for a tree head held briefly elsewhere, and fails past the lock timeout', async () => {
    const store = new PostgresMetadataStore(database.url, { lockTimeoutMs: 1000 });
    stores.push(store);
    await store.init();
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    const hold = async (ms: number) => {
      await holder.query('BEGIN');
      await holder.query('SELECT size FROM audit_head WHERE id = 1 FOR UPDATE');
      setTimeout(() => void holder.query('ROLLBACK'), ms);
    };
    try {
      await hold(300);
      expect(await store.appendAudit([writeDraft(version('w', 1))])).toMatchObject([
        { leafIndex: 0 },
      ]);
      await hold(2500);
      const write = store.commitVersion(
        audited({ version: version('late', 1), expectedCurrentVersion: 0, inline: null }),
      );
      await expect(write).rejects.toThrow(/lock timeout/);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect(await store.auditSize()).toBe(1);
      expect(
        await store.getHead({ product: 'gurukul', class: 'user_progress', name: 'late' }),
      ).toBeNull();
    } finally {
      await holder.end();
    }
  });

  it('sees a change made on another node in its change stamp', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const before = await b.changeStamp();
    await a.suspendKey({ keyId: 'k1', suspendedAt: '2026-11-27', reason: 'T1' });
    expect(await b.changeStamp()).not.toBe(before);
  });

  it('fails only the write whose statements fail, not the rest of its batch', async () => {
    const store = await node();
    await store.commitVersion(
      audited({ version: version('dup', 1), expectedCurrentVersion: 0, inline: null }),
    );
    // A version row that exists already under a head that does not say so: the insert fails.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("DELETE FROM artifacts WHERE name = 'dup'");
    } finally {
      await client.end();
    }
    const results = await Promise.allSettled([
      store.appendAudit([writeDraft(version('x', 1))]),
      store.commitVersion(
        audited({ version: version('dup', 1), expectedCurrentVersion: 0, inline: null }),
      ),
      store.appendAudit([writeDraft(version('y', 1))]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.auditSize()).toBe(3);
    const ids = decompose(0, 3);
    const recomputed = CompactRange.empty();
    for await (const entry of store.auditRange(0, 3)) recomputed.append(entry.leafHash);
    expect(foldSubtrees(await store.auditSubtrees(ids), ids)).toEqual(recomputed.root());
  });
});
