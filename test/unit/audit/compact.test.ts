/** Compact ranges against the naive RFC 6962 §2.1 MTH and published roots. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  decompose,
  foldSubtrees,
  type SubtreeId,
} from '../../../src/audit/compact.js';
import { emptyRoot, leafHash } from '../../../src/audit/rfc6962.js';
import { entries, mth } from './naive.js';

const hex = (value: string) => Buffer.from(value, 'hex');
const start = (id: SubtreeId) => id.index * 2 ** id.level;
const end = (id: SubtreeId) => (id.index + 1) * 2 ** id.level;

interface Reported {
  id: SubtreeId;
  hash: Buffer;
}

function appendAll(range: CompactRange, leaves: readonly Uint8Array[]): Reported[] {
  const reported: Reported[] = [];
  for (const leaf of leaves)
    range.append(leafHash(leaf), (id, hash) => reported.push({ id, hash }));
  return reported;
}

// transparency-dev/merkle testonly: the RFC 6962 reference inputs and their roots for sizes 0..8.
const PUBLISHED_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const PUBLISHED_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('decompose', () => {
  it('splits ranges into maximal aligned subtrees, left to right', () => {
    expect(decompose(0, 0)).toEqual([]);
    expect(decompose(5, 5)).toEqual([]);
    expect(decompose(0, 8)).toEqual([{ level: 3, index: 0 }]);
    expect(decompose(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(decompose(3, 13)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('handles ranges past 2^32 without wrapping', () => {
    expect(decompose(0, 2 ** 40 + 1)).toEqual([
      { level: 40, index: 0 },
      { level: 0, index: 2 ** 40 },
    ]);
    expect(decompose(2 ** 33 - 1, 2 ** 34 + 2)).toEqual([
      { level: 0, index: 2 ** 33 - 1 },
      { level: 33, index: 1 },
      { level: 1, index: 2 ** 33 },
    ]);
    expect(decompose(0, Number.MAX_SAFE_INTEGER)).toHaveLength(53);
  });

  it('rejects invalid ranges', () => {
    expect(() => decompose(3, 2)).toThrow(RangeError);
    expect(() => decompose(-1, 2)).toThrow(/non-negative safe integer/);
    expect(() => decompose(0, 1.5)).toThrow(RangeError);
    expect(() => decompose(0, 2 ** 53)).toThrow(RangeError);
  });

  it('covers the range exactly with aligned subtrees that cannot merge', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 50), fc.nat(100_000), (begin, width) => {
        const ids = decompose(begin, begin + width);
        let at = begin;
        for (const id of ids) {
          expect(start(id)).toBe(at);
          at = end(id);
        }
        expect(at).toBe(begin + width);
        ids.slice(1).forEach((id, i) => {
          const left = ids[i] as SubtreeId;
          // Two equal-level neighbours under one parent would be one larger subtree.
          expect(left.level === id.level && left.index % 2 === 0).toBe(false);
        });
      }),
    );
  });
});

describe('CompactRange', () => {
  it('reproduces the published roots and node hashes', () => {
    const range = CompactRange.empty();
    expect(range.root().toString('hex')).toBe(PUBLISHED_ROOTS[0]);
    const reported: Reported[] = [];
    PUBLISHED_LEAVES.forEach((leaf, i) => {
      range.append(leafHash(leaf), (id, hash) => reported.push({ id, hash }));
      expect(range.root().toString('hex')).toBe(PUBLISHED_ROOTS[i + 1]);
    });
    const level2 = reported
      .filter(({ id }) => id.level === 2)
      .map(({ hash }) => hash.toString('hex'));
    expect(level2).toEqual([
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
  });

  it('has the RFC 6962 root for every size', () => {
    fc.assert(
      fc.property(fc.nat(3000), (size) => {
        const leaves = entries(size);
        const range = CompactRange.empty();
        appendAll(range, leaves);
        expect(range.size).toBe(size);
        expect(range.root().equals(mth(leaves))).toBe(true);
        expect(range.hashes()).toHaveLength(decompose(0, size).length);
        range.hashes().forEach((hash, i) => {
          const id = decompose(0, size)[i] as SubtreeId;
          expect(hash.equals(mth(leaves.slice(start(id), end(id))))).toBe(true);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('reports every completed subtree once, leaf first then by increasing level', () => {
    fc.assert(
      fc.property(fc.nat(2000), (size) => {
        const leaves = entries(size);
        const range = CompactRange.empty();
        const seen = new Set<string>();
        for (const [leafIndex, leaf] of leaves.entries()) {
          const reported: Reported[] = [];
          range.append(leafHash(leaf), (id, hash) => reported.push({ id, hash }));
          expect(reported.map(({ id }) => id.level)).toEqual(reported.map((_, i) => i));
          expect(reported[0]?.id).toEqual({ level: 0, index: leafIndex });
          for (const { id, hash } of reported) {
            expect(end(id)).toBe(leafIndex + 1);
            expect(seen.has(`${id.level}/${id.index}`)).toBe(false);
            seen.add(`${id.level}/${id.index}`);
            expect(hash.equals(mth(leaves.slice(start(id), end(id))))).toBe(true);
          }
        }
        // A tree of n leaves has 2n - popcount(n) complete subtrees.
        expect(seen.size).toBe(2 * size - decompose(0, size).length);
      }),
      { numRuns: 25 },
    );
  });

  it('round-trips through fromHashes and keeps appending identically', () => {
    fc.assert(
      fc.property(fc.nat(2000), fc.nat(300), (size, more) => {
        const original = CompactRange.empty();
        appendAll(original, entries(size));
        const restored = CompactRange.fromHashes(size, original.hashes());
        expect(restored.size).toBe(size);
        expect(restored.root().equals(original.root())).toBe(true);
        const next = entries(more, size);
        const fromOriginal = appendAll(original, next);
        const fromRestored = appendAll(restored, next);
        expect(fromRestored).toEqual(fromOriginal);
        expect(restored.hashes()).toEqual(original.hashes());
        expect(restored.root().equals(mth(entries(size + more)))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('keeps clones and returned hashes independent', () => {
    const range = CompactRange.empty();
    appendAll(range, entries(5));
    const clone = range.clone();
    const hashes = range.hashes();
    appendAll(range, entries(3, 5));
    expect(clone.size).toBe(5);
    expect(clone.root().equals(mth(entries(5)))).toBe(true);
    expect(hashes).toHaveLength(2);
    expect(range.root().equals(mth(entries(8)))).toBe(true);
  });

  it('rejects hash lists that do not match the size', () => {
    const hash = leafHash(Buffer.from('x'));
    expect(() => CompactRange.fromHashes(3, [hash])).toThrow(/size 3 has 2 edge hashes, got 1/);
    expect(() => CompactRange.fromHashes(0, [hash])).toThrow(RangeError);
    expect(() => CompactRange.fromHashes(1, [hash.subarray(1)])).toThrow(/32 bytes/);
    expect(() => CompactRange.fromHashes(-1, [])).toThrow(RangeError);
    expect(() => CompactRange.empty().append(Buffer.alloc(33))).toThrow(/32 bytes/);
  });

  it('merges across the 2^32 boundary with exact indices', () => {
    const hash = leafHash(Buffer.from('x'));
    const edge = Array.from({ length: 33 }, () => hash);
    const range = CompactRange.fromHashes(2 ** 33 - 1, edge);
    const reported: SubtreeId[] = [];
    range.append(hash, (id) => reported.push(id));
    expect(reported).toHaveLength(34);
    expect(reported[0]).toEqual({ level: 0, index: 2 ** 33 - 1 });
    expect(reported[33]).toEqual({ level: 33, index: 0 });
    expect(range.size).toBe(2 ** 33);
    expect(range.hashes()).toHaveLength(1);
    range.append(hash, (id) => expect(id).toEqual({ level: 0, index: 2 ** 33 }));
  });
});

describe('foldSubtrees', () => {
  it('is the MTH of an aligned range and the empty root for no hashes', () => {
    expect(foldSubtrees([]).equals(emptyRoot())).toBe(true);
    const leaves = entries(29);
    const range = CompactRange.empty();
    const stored = new Map<string, Buffer>();
    for (const { id, hash } of appendAll(range, leaves))
      stored.set(`${id.level}/${id.index}`, hash);
    // [16, 29) sits under the aligned subtree [16, 32), so it is a node of the RFC tree.
    const ids = decompose(16, 29);
    const hashes = ids.map((id) => stored.get(`${id.level}/${id.index}`) as Buffer);
    expect(foldSubtrees(hashes, ids).equals(mth(leaves.slice(16, 29)))).toBe(true);
    expect(foldSubtrees(hashes).equals(mth(leaves.slice(16, 29)))).toBe(true);
  });

  it('refuses ranges where folding would not follow the RFC split', () => {
    const hash = leafHash(Buffer.from('x'));
    const unaligned = decompose(3, 13);
    expect(() =>
      foldSubtrees(
        unaligned.map(() => hash),
        unaligned,
      ),
    ).toThrow(/RFC 6962 split/);
    // [2, 5) has decreasing levels, yet RFC 6962 splits it at leaf 4, not after [2, 4).
    const misaligned = decompose(2, 5);
    expect(() =>
      foldSubtrees(
        misaligned.map(() => hash),
        misaligned,
      ),
    ).toThrow(/not aligned/);
    expect(() => foldSubtrees([hash], [])).toThrow(/0 subtree ids for 1 hashes/);
    expect(() => foldSubtrees([hash, Buffer.alloc(31)])).toThrow(/32 bytes/);
  });
});
