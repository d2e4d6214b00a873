/** RFC 6962 §2.1 (RFC 9162 §2.1) Merkle tree hashing with SHA-256 and domain-separated leaf and node prefixes. */
import { hash } from 'node:crypto';

export const HASH_SIZE = 32;

// Distinct prefixes stop a leaf from being passed off as an interior node (second-preimage attack).
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Buffer {
  // One-shot hashing of one buffer: no Hash object per leaf (entries are small).
  const input = Buffer.allocUnsafe(1 + entry.length);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return hash('sha256', input, 'buffer');
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

/** MTH({}) = SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return hash('sha256', Buffer.alloc(0), 'buffer');
}
