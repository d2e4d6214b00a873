/** Writes the RFC 6962 §2.1 vectors (roots, inclusion and consistency proofs) from the naive oracle: `npx tsx test/vectors/rfc6962/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { entries, mth, naiveLeafHash, path, proof } from '../../unit/audit/naive.js';

const LARGE_SIZES = [127, 128, 129, 255, 256, 257, 1023, 1024, 1025];
const SMALL_SIZES = Array.from({ length: 64 }, (_, i) => i + 1);
const leaves = entries(Math.max(...LARGE_SIZES));
const hex = (hash: Buffer): string => hash.toString('hex');
const tree = (size: number) => leaves.slice(0, size);

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Small trees are covered exhaustively, larger ones at the edges and around the RFC split,
// which is where off-by-one errors in the path logic show up; this keeps the files small.
function sample(size: number, exhaustiveUpTo: number): number[] {
  if (size <= exhaustiveUpTo) return Array.from({ length: size + 1 }, (_, i) => i);
  const k = largestPowerOfTwoBelow(size);
  const picks = [0, k - 1, k, Math.floor(size / 3), size - 1, size];
  if (size > 100) picks.push(1, 64, Math.floor((size * 5) / 7));
  return [...new Set(picks)].filter((i) => i >= 0 && i <= size).sort((a, b) => a - b);
}

const inclusion = [...SMALL_SIZES, ...LARGE_SIZES].flatMap((size) =>
  sample(size, 8)
    .filter((index) => index < size)
    .map((index) => ({
      size,
      index,
      leafHash: hex(naiveLeafHash(leaves[index] as Buffer)),
      proof: path(index, tree(size)).map(hex),
    })),
);

const consistency = [...SMALL_SIZES, ...LARGE_SIZES].flatMap((to) =>
  sample(to, 8).map((from) => ({
    from,
    to,
    proof: proof(from, tree(to)).map(hex),
  })),
);

const usedSizes = consistency.flatMap(({ from, to }) => [from, to]);
const rootSizes = [...new Set(usedSizes)].sort((a, b) => a - b);
const roots = rootSizes.map((size) => ({ size, root: hex(mth(tree(size))) }));

const leavesNote =
  'entry i is the UTF-8 bytes of `leaf-${i}`; hashes are hex; proofs as RFC 6962 §2.1.1 PATH and §2.1.2 PROOF; the roots of every size used are in roots.json';
const write = (name: string, body: object) =>
  writeFileSync(
    new URL(name, import.meta.url),
    `${JSON.stringify({ leaves: leavesNote, ...body }, null, 1)}\n`,
  );
write('roots.json', { roots });
write('inclusion.json', { inclusion });
write('consistency.json', { consistency });
console.log(
  `${roots.length} roots, ${inclusion.length} inclusion and ${consistency.length} consistency vectors`,
);
