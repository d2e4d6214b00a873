/** Compact ranges (RFC 6962 §2.1 trees seen as their maximal complete subtrees), after transparency-dev/merkle's compact package. */
import { emptyRoot, HASH_SIZE, nodeHash } from './rfc6962.js';

/** A complete subtree: 2^level leaves, covering leaves [index * 2^level, (index + 1) * 2^level). */
export interface SubtreeId {
  readonly level: number;
  readonly index: number;
}

// Leaf counts may pass 2^32, so sizes are checked as safe integers and every
// power of two below is arithmetic: 32-bit bitwise operators would wrap.
function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

function checkHash(name: string, hash: Uint8Array): void {
  if (hash.length !== HASH_SIZE) {
    throw new RangeError(`${name} must be ${HASH_SIZE} bytes, got ${hash.length}`);
  }
}

/** The maximal aligned complete subtrees covering leaves [begin, end), left to right (empty when begin === end). */
export function decompose(begin: number, end: number): SubtreeId[] {
  checkCount('begin', begin);
  checkCount('end', end);
  if (begin > end) throw new RangeError(`begin ${begin} is past end ${end}`);
  const ids: SubtreeId[] = [];
  while (begin < end) {
    // The largest subtree that starts at `begin` (alignment) and still fits before `end`.
    let level = 0;
    let width = 1;
    while (begin % (width * 2) === 0 && width * 2 <= end - begin) {
      level += 1;
      width *= 2;
    }
    ids.push({ level, index: begin / width });
    begin += width;
  }
  return ids;
}

/** How many subtrees decompose(0, size) yields: one per set bit of size. */
function subtreeCount(size: number): number {
  let count = 0;
  for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/**
 * MTH of the leaves [begin, end) given the hashes of decompose(begin, end), left to right.
 *
 * Folding right to left reproduces RFC 6962's split (left part = largest power of two below n) only
 * when the subtree levels strictly decrease, which holds when begin is 0 or begin is a multiple of a
 * power of two 2^k >= end - begin (a node of the RFC tree). Pass `ids` to have that checked.
 * An empty list is the empty tree.
 */
export function foldSubtrees(hashes: readonly Buffer[], ids?: readonly SubtreeId[]): Buffer {
  if (ids !== undefined) checkFoldable(hashes, ids);
  hashes.forEach((hash, i) => checkHash(`hash ${i}`, hash));
  const last = hashes[hashes.length - 1];
  if (last === undefined) return emptyRoot();
  let root = last;
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Buffer, root);
  return root;
}

function checkFoldable(hashes: readonly Buffer[], ids: readonly SubtreeId[]): void {
  if (ids.length !== hashes.length) {
    throw new RangeError(`${ids.length} subtree ids for ${hashes.length} hashes`);
  }
  for (let i = 1; i < ids.length; i++) {
    const left = ids[i - 1] as SubtreeId;
    const right = ids[i] as SubtreeId;
    const leftEnd = (left.index + 1) * 2 ** left.level;
    if (right.level >= left.level || right.index * 2 ** right.level !== leftEnd) {
      throw new RangeError(
        `subtrees (${left.level},${left.index}) and (${right.level},${right.index}) are not contiguous with decreasing levels, so folding them does not follow the RFC 6962 split`,
      );
    }
  }
  const first = ids[0];
  if (first !== undefined && first.index > 0) {
    // A non-zero start is a node of the RFC tree only if its alignment covers the whole range.
    const begin = first.index * 2 ** first.level;
    const width = ids.reduce((sum, id) => sum + 2 ** id.level, 0);
    const alignment = largestAlignment(begin);
    if (alignment < width) {
      throw new RangeError(
        `range of ${width} leaves at ${begin} is not aligned to a power of two covering it`,
      );
    }
  }
}

function largestAlignment(begin: number): number {
  let alignment = 1;
  while (begin % (alignment * 2) === 0) alignment *= 2;
  return alignment;
}

/** The right edge of a tree: the hashes of decompose(0, size), which is all an append needs. */
export class CompactRange {
  private constructor(
    private leafCount: number,
    // Levels strictly decrease left to right, one entry per set bit of leafCount.
    private readonly edge: Buffer[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** From the hashes of decompose(0, size), in that order; throws if the count does not match. */
  static fromHashes(size: number, hashes: readonly Buffer[]): CompactRange {
    checkCount('size', size);
    const expected = subtreeCount(size);
    if (hashes.length !== expected) {
      throw new RangeError(
        `a tree of size ${size} has ${expected} edge hashes, got ${hashes.length}`,
      );
    }
    hashes.forEach((hash, i) => checkHash(`hash ${i}`, hash));
    return new CompactRange(size, [...hashes]);
  }

  get size(): number {
    return this.leafCount;
  }

  /** The hashes of decompose(0, size), left to right. */
  hashes(): readonly Buffer[] {
    return [...this.edge];
  }

  /** Appends one leaf hash; calls onNode for every complete subtree this append completes, the leaf itself (level 0) first, then each merged parent in increasing level. */
  append(leafHash: Buffer, onNode?: (id: SubtreeId, hash: Buffer) => void): void {
    checkHash('leaf hash', leafHash);
    if (this.leafCount >= Number.MAX_SAFE_INTEGER) {
      throw new RangeError('tree size would pass Number.MAX_SAFE_INTEGER');
    }
    const newSize = this.leafCount + 1;
    let hash = leafHash;
    let level = 0;
    onNode?.({ level: 0, index: this.leafCount }, hash);
    // Each trailing one bit of the old size is a same-level sibling waiting on the edge.
    for (let rest = this.leafCount; rest % 2 === 1; rest = Math.floor(rest / 2)) {
      const left = this.edge.pop() as Buffer;
      hash = nodeHash(left, hash);
      level += 1;
      onNode?.({ level, index: newSize / 2 ** level - 1 }, hash);
    }
    this.edge.push(hash);
    this.leafCount = newSize;
  }

  /** RFC 6962 MTH of the leaves so far; emptyRoot() for size 0. */
  root(): Buffer {
    return foldSubtrees(this.edge);
  }

  clone(): CompactRange {
    return new CompactRange(this.leafCount, [...this.edge]);
  }
}
