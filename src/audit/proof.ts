/** RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency) proofs: planned from stored complete subtrees, and verified. */
import { decompose, foldSubtrees, type SubtreeId } from './compact.js';
import { emptyRoot, HASH_SIZE, nodeHash } from './rfc6962.js';

export type ProofErrorCode =
  'index_out_of_range' | 'wrong_proof_size' | 'bad_hash_size' | 'root_mismatch' | 'invalid_sizes';

export class ProofError extends Error {
  override readonly name = 'ProofError';

  constructor(
    readonly code: ProofErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Which stored complete subtrees a proof needs, and how to turn their hashes (same order as `nodes`) into the proof. O(log n) nodes. */
export interface ProofPlan {
  readonly nodes: readonly SubtreeId[];
  assemble(hashes: readonly Buffer[]): Buffer[];
}

// Sizes may pass 2^32: all index arithmetic below uses Math.floor and 2 ** k, never 32-bit bitwise operators.
function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProofError(
      'invalid_sizes',
      `${name} must be a non-negative safe integer, got ${value}`,
    );
  }
}

function checkHash(name: string, hash: Uint8Array): void {
  if (hash.length !== HASH_SIZE) {
    throw new ProofError('bad_hash_size', `${name} is ${hash.length} bytes, expected ${HASH_SIZE}`);
  }
}

const half = (value: number): number => Math.floor(value / 2);

function onesCount(value: number): number {
  let count = 0;
  for (let rest = value; rest > 0; rest = half(rest)) count += rest % 2;
  return count;
}

function trailingZeros(value: number): number {
  let zeros = 0;
  for (let rest = value; rest > 0 && rest % 2 === 0; rest = half(rest)) zeros += 1;
  return zeros;
}

/** Bit length of index XOR (size - 1): how many levels of the path lie under full siblings. */
function innerProofSize(index: number, size: number): number {
  let levels = 0;
  for (let a = index, b = size - 1; a !== b; a = half(a), b = half(b)) levels += 1;
  return levels;
}

/** The proof length RFC 9162 §2.1.3.1 PATH yields for `index` in a tree of `size` leaves. */
function inclusionProofSize(index: number, size: number): number {
  const inner = innerProofSize(index, size);
  return inner + onesCount(Math.floor(index / 2 ** inner));
}

/**
 * The complete subtrees whose hashes prove the node (level, index) in a tree of `size` leaves,
 * after transparency-dev/merkle's proof.nodes: siblings up to the fork (the highest complete
 * ancestor), then the fork's incomplete right sibling as its decompose() nodes, then the
 * left-hand subtrees by increasing level.
 */
function pathNodes(level: number, index: number, size: number) {
  const siblings: SubtreeId[] = [];
  let nodeLevel = level;
  let nodeIndex = index;
  // The parent is complete while its index differs from the count of complete nodes at its level.
  for (let sizeAt = Math.floor(size / 2 ** level); half(nodeIndex) !== half(sizeAt);) {
    siblings.push({ level: nodeLevel, index: nodeIndex % 2 === 0 ? nodeIndex + 1 : nodeIndex - 1 });
    nodeIndex = half(nodeIndex);
    sizeAt = half(sizeAt);
    nodeLevel += 1;
  }
  const begin = nodeIndex * 2 ** nodeLevel;
  const end = begin + 2 ** nodeLevel;
  return { siblings, right: decompose(end, size), left: decompose(0, begin).reverse() };
}

function checkPlanHashes(nodes: readonly SubtreeId[], hashes: readonly Buffer[]): void {
  if (hashes.length !== nodes.length) {
    throw new ProofError(
      'invalid_sizes',
      `the plan names ${nodes.length} subtrees, got ${hashes.length} hashes`,
    );
  }
  hashes.forEach((hash, i) => checkHash(`hash of subtree ${i}`, hash));
}

/** A plan whose proof is `before`, then the single hash of the `right` range (if any), then `after`. */
function planOf(
  before: readonly SubtreeId[],
  right: readonly SubtreeId[],
  after: readonly SubtreeId[],
): ProofPlan {
  const nodes = [...before, ...right, ...after];
  return {
    nodes,
    assemble(hashes) {
      checkPlanHashes(nodes, hashes);
      const proof = hashes.slice(0, before.length);
      const rightEnd = before.length + right.length;
      // The right range is not a stored subtree: its RFC hash is the fold of its pieces.
      if (right.length > 0) proof.push(foldSubtrees(hashes.slice(before.length, rightEnd)));
      proof.push(...hashes.slice(rightEnd));
      return proof;
    },
  };
}

/** RFC 9162 §2.1.3.1 PATH(index, D[size]), leaf side first. */
export function inclusionPlan(index: number, size: number): ProofPlan {
  checkCount('index', index);
  checkCount('size', size);
  if (index >= size) {
    throw new ProofError('index_out_of_range', `index ${index} is not in a tree of size ${size}`);
  }
  const { siblings, right, left } = pathNodes(0, index, size);
  return planOf(siblings, right, left);
}

/** RFC 9162 §2.1.4.1 PROOF(from, D[to]). */
export function consistencyPlan(from: number, to: number): ProofPlan {
  checkSizes(from, to);
  if (from === 0 || from === to) return planOf([], [], []);
  // The largest complete subtree ending at `from`: the RFC's SUBPROOF bottoms out there.
  const level = trailingZeros(from);
  const index = from / 2 ** level - 1;
  const { siblings, right, left } = pathNodes(level, index, to);
  // A power-of-two `from` is the old root itself, which the verifier already has (b = true).
  const seed: SubtreeId[] = index === 0 ? [] : [{ level, index }];
  return planOf([...seed, ...siblings], right, left);
}

/** A plan whose assemble returns [MTH of the first `size` leaves] (or [emptyRoot()] for 0). */
export function rootPlan(size: number): ProofPlan {
  checkCount('size', size);
  const nodes = decompose(0, size);
  return {
    nodes,
    assemble(hashes) {
      checkPlanHashes(nodes, hashes);
      return [foldSubtrees(hashes)];
    },
  };
}

function checkSizes(from: number, to: number): void {
  checkCount('from', from);
  checkCount('to', to);
  if (from > to) {
    throw new ProofError('invalid_sizes', `from size ${from} is larger than to size ${to}`);
  }
}

/** The root computed from an inclusion proof (RFC 9162 §2.1.3.2), for callers that compare themselves. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  checkCount('index', index);
  checkCount('size', size);
  if (index >= size) {
    throw new ProofError('index_out_of_range', `index ${index} is not in a tree of size ${size}`);
  }
  checkHash('leaf hash', leafHash);
  proof.forEach((hash, i) => checkHash(`proof hash ${i}`, hash));
  // Checked up front so a short proof or trailing garbage is named as such, not as a root mismatch.
  const expected = inclusionProofSize(index, size);
  if (proof.length !== expected) {
    throw new ProofError(
      'wrong_proof_size',
      `inclusion proof for index ${index} in size ${size} has ${proof.length} hashes, expected ${expected}`,
    );
  }
  let fn = index;
  let sn = size - 1;
  let root: Buffer = Buffer.from(leafHash);
  for (const hash of proof) {
    if (sn === 0) throw new ProofError('wrong_proof_size', 'inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      root = nodeHash(hash, root);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      root = nodeHash(root, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('wrong_proof_size', 'inclusion proof is too short');
  return root;
}

/** RFC 9162 §2.1.3.2: throws ProofError unless `proof` shows `leafHash` at `index` under `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash('root', root);
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!computed.equals(root)) {
    throw new ProofError(
      'root_mismatch',
      `inclusion proof leads to root ${computed.toString('hex')}, expected ${Buffer.from(root).toString('hex')}`,
    );
  }
}

/** The proof length RFC 9162 §2.1.4.1 PROOF(from, D[to]) yields, for 0 < from < to. */
function consistencyProofSize(from: number, to: number): number {
  const level = trailingZeros(from);
  const index = from / 2 ** level - 1;
  const levelSize = Math.floor((to - 1) / 2 ** level) + 1;
  return inclusionProofSize(index, levelSize) + (index === 0 ? 0 : 1);
}

/** RFC 9162 §2.1.4.2: throws ProofError unless `proof` shows the tree of `to` leaves extends the one of `from`. */
export function verifyConsistency(
  from: number,
  to: number,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  checkSizes(from, to);
  checkHash('from root', fromRoot);
  checkHash('to root', toRoot);
  proof.forEach((hash, i) => checkHash(`proof hash ${i}`, hash));
  const expected = from === 0 || from === to ? 0 : consistencyProofSize(from, to);
  if (proof.length !== expected) {
    throw new ProofError(
      'wrong_proof_size',
      `consistency proof from ${from} to ${to} has ${proof.length} hashes, expected ${expected}`,
    );
  }
  if (from === to) {
    if (!Buffer.from(fromRoot).equals(toRoot)) {
      throw new ProofError('root_mismatch', `trees of equal size ${from} have different roots`);
    }
    return;
  }
  if (from === 0) {
    // Every tree extends the empty one, but only if the claimed old root really is MTH({}).
    if (!emptyRoot().equals(fromRoot)) {
      throw new ProofError('root_mismatch', 'from root of an empty tree is not the empty root');
    }
    return;
  }
  const path = from === 2 ** trailingZeros(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  const [first, ...rest] = path as [Uint8Array, ...Uint8Array[]];
  let fr: Buffer = Buffer.from(first);
  let sr: Buffer = Buffer.from(first);
  for (const hash of rest) {
    if (sn === 0) throw new ProofError('wrong_proof_size', 'consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(hash, fr);
      sr = nodeHash(hash, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('wrong_proof_size', 'consistency proof is too short');
  if (!fr.equals(fromRoot)) {
    throw new ProofError(
      'root_mismatch',
      `consistency proof leads to from root ${fr.toString('hex')}, expected ${Buffer.from(fromRoot).toString('hex')}`,
    );
  }
  if (!sr.equals(toRoot)) {
    throw new ProofError(
      'root_mismatch',
      `consistency proof leads to to root ${sr.toString('hex')}, expected ${Buffer.from(toRoot).toString('hex')}`,
    );
  }
}
