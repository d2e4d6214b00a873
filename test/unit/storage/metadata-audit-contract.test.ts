/**
 * The MetadataStore contract for the audit log on every adapter (SQLite, PostgreSQL): entries,
 * their filters, stored subtrees and checkpoints (SPEC §6).
 */
import { describe, expect, it } from 'vitest';
import { CompactRange, decompose, foldSubtrees } from '../../../src/audit/compact.js';
import { leafHash } from '../../../src/audit/rfc6962.js';
import type { ThreatId } from '../../../src/domain/decision.js';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { metadataAdapters } from '../../helpers/metadata-adapters.js';
import { A, B, draft, openEachTest } from '../../helpers/metadata-contract.js';

const adapters = await metadataAdapters();

describe.each(adapters)('MetadataStore contract (audit log): $name', (adapter) => {
  let store: MetadataStore;
  openEachTest(adapter, (each) => {
    store = each.store;
  });

  describe('audit log', () => {
    it('appends entries in index order with receipts that match the stored leaves', async () => {
      const receipts = await store.appendAudit([
        draft({ id: 'k1', product: 'gurukul' }, A),
        draft({ id: 'k2', product: 'ai_avatar' }, B),
      ]);
      expect(await store.appendAudit([])).toEqual([]);
      const more = await Promise.all([
        store.appendAudit([draft({ id: 'k1', product: 'gurukul' }, A)]),
        store.appendAudit([draft({ id: 'k1', product: 'gurukul' }, A)]),
      ]);
      expect([...receipts, ...more.flat()].map((r) => r.leafIndex)).toEqual([0, 1, 2, 3]);
      expect(await store.auditSize()).toBe(4);
      for (const receipt of [...receipts, ...more.flat()]) {
        const entry = await store.auditEntry(receipt.leafIndex);
        expect(entry?.leafHash.toString('hex')).toBe(receipt.leafHash);
        expect(entry?.leafHash).toEqual(leafHash(entry?.canonical ?? Buffer.alloc(0)));
        expect(JSON.parse(entry?.canonical.toString() ?? '{}').index).toBe(receipt.leafIndex);
      }
      expect(await store.auditEntry(4)).toBeNull();
    });

    it('stores every complete subtree: leaves and nodes give the recomputed root', async () => {
      const drafts = Array.from({ length: 37 }, (_, i) =>
        draft({ id: `k${i % 3}`, product: 'gurukul' }, A),
      );
      await store.appendAudit(drafts.slice(0, 20));
      await store.appendAudit(drafts.slice(20));
      const size = await store.auditSize();
      expect(size).toBe(37);
      const expected = CompactRange.empty();
      const leaves: Buffer[] = [];
      for await (const entry of store.auditRange(0, size)) {
        expected.append(entry.leafHash);
        leaves.push(entry.leafHash);
      }
      const ids = decompose(0, size);
      expect(foldSubtrees(await store.auditSubtrees(ids), ids)).toEqual(expected.root());
      // Inner subtrees and single leaves, in the order asked.
      const inner = [
        { level: 0, index: 36 },
        { level: 3, index: 2 },
        { level: 1, index: 0 },
      ];
      const partial = CompactRange.empty();
      for (const leaf of leaves.slice(16, 24)) partial.append(leaf);
      const pair = CompactRange.empty();
      for (const leaf of leaves.slice(0, 2)) pair.append(leaf);
      expect(await store.auditSubtrees(inner)).toEqual([leaves[36], partial.root(), pair.root()]);
      expect(await store.auditSubtrees([])).toEqual([]);
      await expect(store.auditSubtrees([{ level: 0, index: 37 }])).rejects.toThrow(/not stored/);
      await expect(store.auditSubtrees([{ level: 6, index: 0 }])).rejects.toThrow(/not stored/);
    });

    it('filters entries by artifact, principal, decision, threat, time, cursor and visibility', async () => {
      await store.appendAudit([
        draft({ id: 'k1', product: 'gurukul' }, A),
        draft({ id: 'k2', product: 'ai_avatar' }, B, { allow: false, threats: ['T1', 'T4'] }),
        draft({ id: 'k2', product: 'ai_avatar' }, A, {
          allow: false,
          threats: ['T11' as ThreatId],
        }),
        draft({ id: 'owner', product: null }, B),
      ]);
      const indices = async (query: Partial<Parameters<MetadataStore['auditEntries']>[0]>) =>
        (await store.auditEntries({ limit: 100, ...query })).map((e) => e.index);
      expect(await indices({})).toEqual([0, 1, 2, 3]);
      expect(await indices({ artifact: A })).toEqual([0, 2]);
      expect(await indices({ principal: 'k2' })).toEqual([1, 2]);
      expect(await indices({ allow: true })).toEqual([0, 3]);
      expect(await indices({ allow: false })).toEqual([1, 2]);
      expect(await indices({ threat: 'T1' })).toEqual([1]);
      expect(await indices({ threat: 'T4' })).toEqual([1]);
      expect(await indices({ since: '2000-01-01T00:00:00.000Z' })).toEqual([0, 1, 2, 3]);
      expect(await indices({ since: '2999-01-01T00:00:00.000Z' })).toEqual([]);
      expect(await indices({ afterIndex: 1 })).toEqual([2, 3]);
      expect(await indices({ visibleTo: 'ai_avatar' })).toEqual([1, 2, 3]);
      expect(await indices({ visibleTo: 'gurukul' })).toEqual([0, 2]);
      expect(await indices({ limit: 2, afterIndex: 0 })).toEqual([1, 2]);
      expect(await indices({ afterIndex: 0, throughIndex: 2 })).toEqual([1, 2]);
      expect(await indices({ throughIndex: 0 })).toEqual([0]);
      expect(await indices({ principal: 'k2', throughIndex: 1 })).toEqual([1]);
      expect(await indices({ principal: 'k2', allow: false, artifact: A })).toEqual([2]);
    });

    it('reads ranges in pages, across page boundaries', async () => {
      const template = draft({ id: 'k1', product: 'gurukul' }, A);
      await store.appendAudit(Array.from({ length: 2100 }, () => template));
      const read = async (from: number, to: number) => {
        const indices: number[] = [];
        for await (const entry of store.auditRange(from, to)) indices.push(entry.index);
        return indices;
      };
      const all = await read(0, 2100);
      expect(all).toHaveLength(2100);
      expect(all.every((index, i) => index === i)).toBe(true);
      expect(await read(995, 1005)).toEqual([
        995, 996, 997, 998, 999, 1000, 1001, 1002, 1003, 1004,
      ]);
      expect(await read(2098, 5000)).toEqual([2098, 2099]);
      expect(await read(5, 5)).toEqual([]);
    });

    it('keeps one checkpoint per size, smallest first', async () => {
      expect(await store.latestCheckpoint()).toBeNull();
      const checkpoint = (size: number, note: string) => ({
        size,
        rootHash: Buffer.alloc(32, size),
        note,
        createdAt: '2026-11-27T20:00:00.000Z',
      });
      await store.insertCheckpoint(checkpoint(5, 'five'));
      await store.insertCheckpoint(checkpoint(2, 'two'));
      await store.insertCheckpoint(checkpoint(5, 'five again'));
      expect(await store.latestCheckpoint()).toEqual(checkpoint(5, 'five'));
      const all = [];
      for await (const stored of store.checkpoints()) all.push(stored);
      expect(all).toEqual([checkpoint(2, 'two'), checkpoint(5, 'five')]);
    });
  });
});
