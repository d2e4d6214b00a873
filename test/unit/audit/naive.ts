/** RFC 6962 §2.1 read literally (recursive MTH, PATH, PROOF over entry lists): the oracle for src/audit, sharing no code with it. */
import { createHash } from 'node:crypto';

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** The entries every vector and property test uses: the UTF-8 bytes of `leaf-${i}`. */
export function entries(count: number, first = 0): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`leaf-${first + i}`, 'utf8'));
}

export function naiveLeafHash(entry: Uint8Array): Buffer {
  return sha256(Buffer.from([0x00]), entry);
}

/** k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]). */
export function mth(d: readonly Uint8Array[]): Buffer {
  const n = d.length;
  if (n === 0) return sha256();
  if (n === 1) return naiveLeafHash(d[0] as Uint8Array);
  const k = split(n);
  return sha256(Buffer.from([0x01]), mth(d.slice(0, k)), mth(d.slice(k)));
}

/** PATH(m, D[n]): the audit path for leaf m. */
export function path(m: number, d: readonly Uint8Array[]): Buffer[] {
  const n = d.length;
  if (n <= 1) return [];
  const k = split(n);
  if (m < k) return [...path(m, d.slice(0, k)), mth(d.slice(k))];
  return [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty for m = 0 and m = n. */
export function proof(m: number, d: readonly Uint8Array[]): Buffer[] {
  if (m === 0 || m === d.length) return [];
  return subproof(m, d, true);
}

function subproof(m: number, d: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const k = split(n);
  if (m <= k) return [...subproof(m, d.slice(0, k), b), mth(d.slice(k))];
  return [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
