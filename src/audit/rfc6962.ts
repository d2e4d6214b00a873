/** RFC 6962 §2.1 (RFC 9162 §2.1) Merkle tree hashing with SHA-256 and domain-separated leaf and node prefixes. */
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

// Distinct prefixes stop a leaf from being passed off as an interior node (second-preimage attack).
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH({}) = SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}
