/** RFC 9162 §2.1.3 / §2.1.4 proofs: plans fed from stored subtrees match the naive vectors, verification accepts them and rejects every corruption. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange, decompose, type SubtreeId } from '../../../src/audit/compact.js';
import {
  consistencyPlan,
  inclusionPlan,
  ProofError,
  rootFromInclusionProof,
  rootPlan,
  verifyConsistency,
  verifyInclusion,
  type ProofPlan,
} from '../../../src/audit/proof.js';
import { emptyRoot, leafHash, nodeHash } from '../../../src/audit/rfc6962.js';
import { entries, mth, naiveLeafHash, path, proof as naiveProof } from './naive.js';

interface InclusionVector {
  size: number;
  index: number;
  leafHash: string;
  proof: string[];
}
interface ConsistencyVector {
  from: number;
  to: number;
  proof: string[];
}

const vectorsDir = new URL('../../vectors/rfc6962/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, vectorsDir), 'utf8'));
const roots = new Map<number, Buffer>(
  (load('roots.json').roots as { size: number; root: string }[]).map(({ size, root }) => [
    size,
    Buffer.from(root, 'hex'),
  ]),
);
const inclusionVectors = load('inclusion.json').inclusion as InclusionVector[];
const consistencyVectors = load('consistency.json').consistency as ConsistencyVector[];
const fromHex = (hashes: string[]) => hashes.map((hash) => Buffer.from(hash, 'hex'));
const rootOf = (size: number) => roots.get(size) as Buffer;

/** What a storage adapter holds: every subtree append reported, keyed by (level, index). */
function storedTree(size: number): Map<string, Buffer> {
  const stored = new Map<string, Buffer>();
  const range = CompactRange.empty();
  for (const entry of entries(size)) {
    range.append(leafHash(entry), (id, hash) => stored.set(key(id), hash));
  }
  return stored;
}
const key = (id: SubtreeId) => `${id.level}/${id.index}`;
const LARGEST = Math.max(...roots.keys());
const stored = storedTree(LARGEST);

/** Runs a plan against stored subtrees, checking it only names subtrees complete at `size`. */
function build(plan: ProofPlan, size: number, tree = stored): Buffer[] {
  const logSize = Math.ceil(Math.log2(Math.max(size, 2)));
  expect(plan.nodes.length).toBeLessThanOrEqual(2 * logSize);
  const hashes = plan.nodes.map((id) => {
    expect((id.index + 1) * 2 ** id.level).toBeLessThanOrEqual(size);
    const hash = tree.get(key(id));
    expect(hash).toBeDefined();
    return hash as Buffer;
  });
  return plan.assemble(hashes);
}

function flipBit(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  const byte = Math.floor(bit / 8) % copy.length;
  copy[byte] = (copy[byte] as number) ^ (1 << (bit % 8));
  return copy;
}

function expectCode(code: ProofError['code'], run: () => void): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProofError);
  expect((caught as ProofError).code).toBe(code);
}

const rejects = (run: () => void) => expect(run).toThrow(ProofError);

describe('roots', () => {
  it('rootPlan folds stored subtrees into the vector roots, and the empty root for 0', () => {
    expect(rootPlan(0).nodes).toEqual([]);
    expect(rootPlan(0).assemble([])).toEqual([emptyRoot()]);
    for (const [size, root] of roots) {
      const [computed] = build(rootPlan(size), size);
      expect(computed?.equals(root)).toBe(true);
    }
  });
});

describe('inclusion proofs', () => {
  it.each(inclusionVectors.map((vector) => [`${vector.index} of ${vector.size}`, vector]))(
    'vector %s: built, verified and every corruption rejected',
    (_, { size, index, leafHash: leafHex, proof: proofHex }) => {
      const leaf = Buffer.from(leafHex, 'hex');
      const proof = fromHex(proofHex);
      const root = rootOf(size);
      expect(build(inclusionPlan(index, size), size)).toEqual(proof);
      verifyInclusion(index, size, leaf, proof, root);
      expect(rootFromInclusionProof(index, size, leaf, proof).equals(root)).toBe(true);

      proof.forEach((hash, i) => {
        for (const bit of [0, 7, 8 * i + 3, 255]) {
          const modified = proof.map((h, j) => (j === i ? flipBit(hash, bit) : h));
          expectCode('root_mismatch', () => verifyInclusion(index, size, leaf, modified, root));
        }
      });
      for (const wrongIndex of [index - 1, index + 1].filter((i) => i >= 0 && i < size)) {
        rejects(() => verifyInclusion(wrongIndex, size, leaf, proof, root));
      }
      for (const wrongSize of [size * 2, Math.floor(size / 2)].filter((s) => s > index)) {
        rejects(() => verifyInclusion(index, wrongSize, leaf, proof, root));
      }
      expectCode('index_out_of_range', () => verifyInclusion(size, size, leaf, proof, root));
      expectCode('root_mismatch', () =>
        verifyInclusion(index, size, flipBit(leaf, 1), proof, root),
      );
      expectCode('root_mismatch', () =>
        verifyInclusion(index, size, leaf, proof, flipBit(root, 9)),
      );
      if (proof.length > 0) {
        expectCode('wrong_proof_size', () =>
          verifyInclusion(index, size, leaf, proof.slice(0, -1), root),
        );
        expectCode('bad_hash_size', () =>
          verifyInclusion(index, size, leaf, [proof[0]!.subarray(1), ...proof.slice(1)], root),
        );
      }
      expectCode('wrong_proof_size', () =>
        verifyInclusion(index, size, leaf, [...proof, Buffer.alloc(32)], root),
      );
      expectCode('wrong_proof_size', () =>
        verifyInclusion(index, size, leaf, [...proof, root], root),
      );
      expectCode('bad_hash_size', () =>
        verifyInclusion(index, size, leaf, [...proof, Buffer.alloc(33)], root),
      );
      expectCode('bad_hash_size', () =>
        verifyInclusion(index, size, leaf.subarray(1), proof, root),
      );
      expectCode('bad_hash_size', () =>
        verifyInclusion(index, size, leaf, proof, Buffer.concat([root, Buffer.alloc(1)])),
      );
    },
  );

  it('matches the naive PATH for random trees of a few thousand leaves', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 3000 })
          .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1))),
        ([size, index]) => {
          const leaves = entries(size);
          const tree = storedTree(size);
          const proof = build(inclusionPlan(index, size), size, tree);
          expect(proof).toEqual(path(index, leaves));
          verifyInclusion(index, size, naiveLeafHash(leaves[index]!), proof, mth(leaves));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rejects sizes and indices that are not non-negative safe integers', () => {
    const leaf = leafHash(Buffer.from('x'));
    expectCode('index_out_of_range', () => inclusionPlan(3, 3));
    expectCode('invalid_sizes', () => inclusionPlan(-1, 3));
    expectCode('invalid_sizes', () => inclusionPlan(0, 2 ** 53));
    expectCode('invalid_sizes', () => inclusionPlan(0.5, 3));
    expectCode('invalid_sizes', () => verifyInclusion(0, Number.NaN, leaf, [], leaf));
    expectCode('index_out_of_range', () => verifyInclusion(0, 0, leaf, [], leaf));
    expect(() => inclusionPlan(0, 2).assemble([])).toThrow(/names 1 subtrees, got 0 hashes/);
  });
});

describe('consistency proofs', () => {
  it.each(consistencyVectors.map((vector) => [`${vector.from} to ${vector.to}`, vector]))(
    'vector %s: built, verified and every corruption rejected',
    (_, { from, to, proof: proofHex }) => {
      const proof = fromHex(proofHex);
      const fromRoot = rootOf(from);
      const toRoot = rootOf(to);
      expect(build(consistencyPlan(from, to), to)).toEqual(proof);
      verifyConsistency(from, to, fromRoot, toRoot, proof);

      proof.forEach((hash, i) => {
        for (const bit of [0, 7, 8 * i + 3, 255]) {
          const modified = proof.map((h, j) => (j === i ? flipBit(hash, bit) : h));
          expectCode('root_mismatch', () =>
            verifyConsistency(from, to, fromRoot, toRoot, modified),
          );
        }
      });
      if (from !== to) {
        expectCode('root_mismatch', () =>
          verifyConsistency(from, to, flipBit(fromRoot, 5), toRoot, proof),
        );
      }
      // Any tree extends the empty one, so only a non-empty old tree pins the new root.
      if (from > 0) {
        expectCode('root_mismatch', () =>
          verifyConsistency(from, to, fromRoot, flipBit(toRoot, 200), proof),
        );
      }
      for (const wrongFrom of [from - 1, from + 1].filter((f) => f > 0 && f < to)) {
        rejects(() => verifyConsistency(wrongFrom, to, fromRoot, toRoot, proof));
      }
      if (from > 0 && from < to) {
        rejects(() => verifyConsistency(from, to * 2, fromRoot, toRoot, proof));
        rejects(() => verifyConsistency(to, to, fromRoot, toRoot, proof));
        rejects(() => verifyConsistency(from, to, toRoot, fromRoot, proof));
      }
      expectCode('invalid_sizes', () => verifyConsistency(to + 1, to, fromRoot, toRoot, proof));
      if (proof.length > 0) {
        expectCode('wrong_proof_size', () =>
          verifyConsistency(from, to, fromRoot, toRoot, proof.slice(1)),
        );
        expectCode('wrong_proof_size', () =>
          verifyConsistency(from, to, fromRoot, toRoot, proof.slice(0, -1)),
        );
        expectCode('bad_hash_size', () =>
          verifyConsistency(from, to, fromRoot, toRoot, [...proof.slice(1), Buffer.alloc(31)]),
        );
      }
      expectCode('wrong_proof_size', () =>
        verifyConsistency(from, to, fromRoot, toRoot, [...proof, toRoot]),
      );
      expectCode('bad_hash_size', () =>
        verifyConsistency(from, to, fromRoot.subarray(1), toRoot, proof),
      );
      expectCode('bad_hash_size', () =>
        verifyConsistency(from, to, fromRoot, Buffer.alloc(33), proof),
      );
    },
  );

  it('matches the naive PROOF for random trees of a few thousand leaves', () => {
    fc.assert(
      fc.property(
        fc.nat(3000).chain((to) => fc.tuple(fc.nat(to), fc.constant(to))),
        ([from, to]) => {
          const leaves = entries(to);
          const proof = build(consistencyPlan(from, to), to, storedTree(to));
          expect(proof).toEqual(naiveProof(from, leaves));
          verifyConsistency(from, to, mth(leaves.slice(0, from)), mth(leaves), proof);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('accepts an empty old tree only with the empty root', () => {
    const root = mth(entries(5));
    verifyConsistency(0, 5, emptyRoot(), root, []);
    verifyConsistency(0, 0, emptyRoot(), emptyRoot(), []);
    expectCode('root_mismatch', () => verifyConsistency(0, 5, root, root, []));
    expectCode('wrong_proof_size', () => verifyConsistency(0, 5, emptyRoot(), root, [root]));
    expectCode('root_mismatch', () => verifyConsistency(5, 5, emptyRoot(), root, []));
    expectCode('invalid_sizes', () => consistencyPlan(6, 5));
    expectCode('invalid_sizes', () => consistencyPlan(-1, 5));
  });
});

describe('trees past 2^32 leaves', () => {
  // Every leaf equal makes each complete subtree's hash depend only on its level, so proofs for
  // huge trees can be built and checked without materialising them.
  const leaf = leafHash(Buffer.from('same'));
  const levelHashes = [leaf];
  for (let level = 1; level <= 53; level++) {
    const below = levelHashes[level - 1]!;
    levelHashes.push(nodeHash(below, below));
  }
  const hashesFor = (plan: ProofPlan, size: number) =>
    plan.nodes.map((id) => {
      expect((id.index + 1) * 2 ** id.level).toBeLessThanOrEqual(size);
      return levelHashes[id.level]!;
    });
  const rootFor = (size: number) => rootPlan(size).assemble(hashesFor(rootPlan(size), size))[0]!;

  it('builds and verifies inclusion and consistency proofs without 32-bit wrap-around', () => {
    const sizes = [2 ** 32 + 1, 2 ** 33 - 1, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER];
    for (const size of sizes) {
      expect(decompose(0, size).length).toBeLessThan(54);
      for (const index of [0, 2 ** 32 - 1, 2 ** 32, size - 1]) {
        const plan = inclusionPlan(index, size);
        expect(plan.nodes.length).toBeLessThanOrEqual(2 * 53);
        const proof = plan.assemble(hashesFor(plan, size));
        verifyInclusion(index, size, leaf, proof, rootFor(size));
      }
      for (const from of [1, 2 ** 31 + 3, 2 ** 32, size - 1]) {
        const plan = consistencyPlan(from, size);
        const proof = plan.assemble(hashesFor(plan, size));
        verifyConsistency(from, size, rootFor(from), rootFor(size), proof);
        rejects(() => verifyConsistency(from, size, rootFor(from + 1), rootFor(size), proof));
      }
    }
  });
});
