/**
 * The MetadataStore contract for artifacts on every adapter (SQLite, PostgreSQL): commits under
 * the commit rule (head, limits, audit entry in the same transaction) and listing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseEntry } from '../../../src/audit/entry.js';
import { leafHash } from '../../../src/audit/rfc6962.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { audited } from '../../helpers/audit.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';
import { commitNext, version } from '../../helpers/versions.js';
import { A, B, SMALL_LIMITS, openEachTest } from '../../helpers/metadata-contract.js';

const adapters = await metadataAdapters();

describe.each(adapters)('MetadataStore contract (artifacts): $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;
  openEachTest(adapter, (each) => {
    opened = each;
    store = each.store;
  });

  const commit = (v: ArtifactVersion, inline?: Buffer | null) => commitNext(store, v, inline);

  describe('commitVersion', () => {
    it('commits a first version with its inline bytes, usage and receipt', async () => {
      const v1 = version({ name: 'a', version: 1, size: 7 });
      const result = await commit(v1, Buffer.from('{"a":1}'));
      expect(result).toEqual({
        ok: true,
        usage: { product: { bytes: 7, artifacts: 1 }, total: { bytes: 7, artifacts: 1 } },
        receipt: { leafIndex: 0, leafHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      expect(await store.getHead(A)).toEqual(v1);
      expect(await store.getVersion(A, 1)).toEqual(v1);
      expect(await store.getVersion(A, 2)).toBeNull();
      expect((await store.readInline(A, 1))?.toString()).toBe('{"a":1}');
      expect(await store.getForRead(A)).toEqual({ version: v1, inline: Buffer.from('{"a":1}') });
      expect(await store.getForRead(A, 1)).toEqual({ version: v1, inline: Buffer.from('{"a":1}') });
      expect(await store.getForRead({ ...A, name: 'none' })).toBeNull();
      expect(await store.hasArtifacts({ product: 'gurukul' })).toBe(true);
      expect(await store.hasArtifacts({ class: 'user_progress' })).toBe(true);
      expect(await store.hasArtifacts({ product: 'core' })).toBe(false);
      const entry = await store.auditEntry(0);
      expect(entry?.leafHash).toEqual(leafHash(entry?.canonical ?? Buffer.alloc(0)));
      expect(JSON.parse(entry?.canonical.toString() ?? '{}')).toMatchObject({
        index: 0,
        version: 1,
        sha256: v1.sha256,
      });
    });

    it('refuses a stale head with version_conflict and stores nothing', async () => {
      await commit(version({ name: 'a', version: 1 }));
      const stale = await store.commitVersion(
        audited({
          version: version({ name: 'a', version: 1, sha256: 'f'.repeat(64) }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
      );
      expect(stale).toEqual({ ok: false, reason: 'version_conflict', current: 1 });
      expect(await store.auditSize()).toBe(1);
      expect(await store.usage('gurukul')).toEqual({ bytes: 10, artifacts: 1 });
      await commit(version({ name: 'a', version: 2, size: 5 }));
      expect((await store.listVersions(A)).map((v) => v.version)).toEqual([1, 2]);
      expect(await store.usage('gurukul')).toEqual({ bytes: 15, artifacts: 1 });
    });

    it('lets exactly one of two writers decided against the same head commit', async () => {
      await commit(version({ name: 'a', version: 1 }));
      const attempt = (sha: string) =>
        store.commitVersion(
          audited({
            version: version({ name: 'a', version: 2, sha256: sha }),
            expectedCurrentVersion: 1,
            inline: Buffer.from('{}'),
          }),
        );
      const results = await Promise.all([attempt('1'.repeat(64)), attempt('2'.repeat(64))]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([
        { ok: false, reason: 'version_conflict', current: 2 },
      ]);
      expect(await store.auditSize()).toBe(2);
    });

    it('checks each write of one batch against what the writes before it left', async () => {
      const submit = (n: number, expected: number, fields: { size?: number; sha?: string } = {}) =>
        store.commitVersion({
          ...audited({
            version: version({
              name: 'batched',
              version: n,
              size: fields.size ?? 10,
              ...(fields.sha ? { sha256: fields.sha } : {}),
            }),
            expectedCurrentVersion: expected,
            inline: Buffer.from('{}'),
          }),
          limits: SMALL_LIMITS,
        });
      // Submitted in one turn: one group commit (one batch) on every adapter.
      const results = await Promise.all([
        submit(1, 0, { size: 30 }),
        submit(2, 1, { size: 30 }),
        submit(2, 1, { sha: 'e'.repeat(64) }),
        submit(3, 2, { size: 50 }),
        submit(3, 2, { size: 30 }),
      ]);
      expect(results).toMatchObject([
        { ok: true, usage: { product: { bytes: 30, artifacts: 1 } } },
        { ok: true, usage: { product: { bytes: 60, artifacts: 1 } } },
        { ok: false, reason: 'version_conflict', current: 2 },
        { ok: false, reason: 'insufficient_storage' },
        { ok: true, usage: { product: { bytes: 90, artifacts: 1 } } },
      ]);
      const key = { product: 'gurukul', class: 'user_progress', name: 'batched' };
      expect((await store.listVersions(key)).map((v) => [v.version, v.size])).toEqual([
        [1, 30],
        [2, 30],
        [3, 30],
      ]);
      expect((await store.getHead(key))?.version).toBe(3);
      expect(await store.usage('gurukul')).toEqual({ bytes: 90, artifacts: 1 });
      // Only the three that committed have entries, in the order they were submitted.
      const entries = [];
      for await (const entry of store.auditRange(0, await store.auditSize())) {
        entries.push(parseEntry(entry.canonical).version);
      }
      expect(entries).toEqual([1, 2, 3]);
    });

    it('tells a write decided against a moved head of the conflict, even past a limit', async () => {
      await commit(version({ name: 'a', version: 1, size: 60 }));
      await commit(version({ name: 'a', version: 2, size: 10 }));
      // Decided against version 1 (stale), and 41 bytes more would pass the quota too.
      const stale = await store.commitVersion({
        ...audited({
          version: version({ name: 'a', version: 2, size: 41, sha256: 'e'.repeat(64) }),
          expectedCurrentVersion: 1,
          inline: Buffer.from('{}'),
        }),
        limits: SMALL_LIMITS,
      });
      expect(stale).toEqual({ ok: false, reason: 'version_conflict', current: 2 });
      // An update of a name that does not exist is a conflict with "no version" too.
      const missing = await store.commitVersion(
        audited({
          version: version({ name: 'nowhere', version: 4 }),
          expectedCurrentVersion: 3,
          inline: Buffer.from('{}'),
        }),
      );
      expect(missing).toEqual({ ok: false, reason: 'version_conflict', current: 0 });
      expect(await store.getHead({ ...A, name: 'nowhere' })).toBeNull();
      expect((await store.listVersions(A)).map((v) => v.version)).toEqual([1, 2]);
      expect(await store.usage('gurukul')).toEqual({ bytes: 70, artifacts: 1 });
      expect(await store.auditSize()).toBe(2);
    });

    it('refuses a commit past a limit with insufficient_storage, storing nothing', async () => {
      await commit(version({ name: 'a', version: 1, size: 60 }));
      const over = await store.commitVersion({
        ...audited({
          version: version({ name: 'b', version: 1, size: 41 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits: SMALL_LIMITS,
      });
      expect(over).toMatchObject({
        ok: false,
        reason: 'insufficient_storage',
        rule: 'quota_bytes',
      });
      expect(await store.getHead({ ...A, name: 'b' })).toBeNull();
      expect(await store.usageFacts('gurukul')).toEqual({
        product: { bytes: 60, artifacts: 1 },
        total: { bytes: 60, artifacts: 1 },
      });
      expect(await store.auditSize()).toBe(1);
      const fits = await store.commitVersion({
        ...audited({
          version: version({ name: 'b', version: 1, size: 40 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits: SMALL_LIMITS,
      });
      expect(fits).toMatchObject({ ok: true, usage: { product: { bytes: 100, artifacts: 2 } } });
      const tooMany = await store.commitVersion({
        ...audited({
          version: version({ name: 'c', version: 1, size: 0 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits: { ...SMALL_LIMITS, productMaxArtifacts: 2 },
      });
      expect(tooMany).toMatchObject({ ok: false, rule: 'max_artifacts' });
    });

    it('counts the bytes of every version and each artifact once, per product', async () => {
      await commit(version({ name: 'a', version: 1, size: 100 }));
      await commit(version({ name: 'a', version: 2, size: 50 }));
      await commit(version({ name: 'b', version: 1, size: 7 }));
      await commit(version({ ...B, version: 1, size: 1 }));
      expect(await store.usage('gurukul')).toEqual({ bytes: 157, artifacts: 2 });
      expect(await store.usage('core')).toEqual({ bytes: 0, artifacts: 0 });
      expect(await store.usageFacts('ai_avatar')).toEqual({
        product: { bytes: 1, artifacts: 1 },
        total: { bytes: 158, artifacts: 3 },
      });
      expect(await store.usageByProduct()).toEqual({
        gurukul: { bytes: 157, artifacts: 2 },
        ai_avatar: { bytes: 1, artifacts: 1 },
      });
    });

    it('keeps committed versions across a reopen', async () => {
      await commit(version({ name: 'kept', version: 1 }));
      const reopened = await opened.reopen();
      expect((await reopened.getHead({ ...A, name: 'kept' }))?.version).toBe(1);
      expect(await reopened.auditSize()).toBe(1);
    });

    it('lists every version with its inline bytes (allVersions)', async () => {
      await commit(version({ name: 'a', version: 1 }), Buffer.from('one'));
      await commit(version({ name: 'a', version: 2, storage: 'blob' }));
      await commit(version({ ...B, version: 1 }), Buffer.from('b'));
      const all = [];
      for await (const item of store.allVersions()) all.push(item);
      expect(all.map((i) => [i.version.product, i.version.name, i.version.version])).toEqual([
        ['ai_avatar', 'b', 1],
        ['gurukul', 'a', 1],
        ['gurukul', 'a', 2],
      ]);
      expect(all.map((i) => i.inline?.toString() ?? null)).toEqual(['b', 'one', null]);
    });
  });

  describe('listArtifacts', () => {
    const names = (items: ArtifactVersion[]) => items.map((v) => `${v.class}:${v.name}`);

    beforeEach(async () => {
      if (!adapter.available) return;
      for (const [classId, name] of [
        ['user_progress', 'b'],
        ['educational_content', 'z'],
        ['user_progress', 'a/2'],
        ['user_progress', 'a/10'],
        ['educational_content', 'a'],
        ['user_progress', 'a_x'],
        ['user_progress', 'a%y'],
        ['user_progress', 'B'],
      ] as const) {
        await commit(version({ class: classId, name, version: 1 }));
      }
      await commit(version({ ...B, name: 'a', version: 1 }));
    });

    it("lists one product's live heads in (class, name) byte order", async () => {
      expect(names(await store.listArtifacts({ product: 'gurukul', limit: 100 }))).toEqual([
        'educational_content:a',
        'educational_content:z',
        'user_progress:B',
        'user_progress:a%y',
        'user_progress:a/10',
        'user_progress:a/2',
        'user_progress:a_x',
        'user_progress:b',
      ]);
    });

    it('pages with an exclusive cursor across classes and honours the limit', async () => {
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

    it('filters by class and a literal prefix, and leaves tombstones out', async () => {
      const byClass = await store.listArtifacts({
        product: 'gurukul',
        class: 'educational_content',
        limit: 100,
      });
      expect(names(byClass)).toEqual(['educational_content:a', 'educational_content:z']);
      const prefix = (p: string) =>
        store.listArtifacts({ product: 'gurukul', prefix: p, limit: 9 });
      expect(names(await prefix('a/'))).toEqual(['user_progress:a/10', 'user_progress:a/2']);
      expect(names(await prefix('a_'))).toEqual(['user_progress:a_x']);
      expect(names(await prefix('a%'))).toEqual(['user_progress:a%y']);
      await commit(version({ name: 'b', version: 2, tombstone: true, storage: 'none', size: 0 }));
      expect(names(await prefix('b'))).toEqual([]);
      expect(names(await store.listArtifacts({ product: 'gurukul', limit: 100 }))).not.toContain(
        'user_progress:b',
      );
      expect((await store.getHead({ ...A, name: 'b' }))?.tombstone).toBe(true);
      await commit(version({ name: 'b', version: 3 }));
      expect((await prefix('b')).map((v) => v.version)).toEqual([3]);
    });
  });
});
