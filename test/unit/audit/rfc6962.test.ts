/** RFC 6962 §2.1 hashing against published values (transparency-dev/merkle's test constants) and the naive oracle. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyRoot, HASH_SIZE, leafHash, nodeHash } from '../../../src/audit/rfc6962.js';
import { naiveLeafHash } from './naive.js';

const hex = (value: string) => Buffer.from(value, 'hex');

describe('rfc6962 hashing', () => {
  it('hashes the empty tree to SHA-256 of the empty string', () => {
    expect(emptyRoot().toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(HASH_SIZE).toBe(32);
  });

  it('matches published leaf and node hashes', () => {
    // transparency-dev/merkle testonly: leaves "" and 0x00, and the level-1 node over them.
    const empty = leafHash(new Uint8Array());
    const zero = leafHash(hex('00'));
    expect(empty.toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(zero.toString('hex')).toBe(
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    );
    expect(nodeHash(empty, zero).toString('hex')).toBe(
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    );
  });

  it('separates leaves from nodes so a node cannot pass as a leaf', () => {
    const left = leafHash(Buffer.from('a'));
    const right = leafHash(Buffer.from('b'));
    const concatenated = Buffer.concat([left, right]);
    expect(leafHash(concatenated).equals(nodeHash(left, right))).toBe(false);
    expect(leafHash(concatenated).equals(createHash('sha256').update(concatenated).digest())).toBe(
      false,
    );
  });

  it('agrees with the naive leaf hash and is order-sensitive for nodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
        expect(leafHash(a).equals(naiveLeafHash(a))).toBe(true);
        expect(leafHash(a)).toHaveLength(HASH_SIZE);
        const [x, y] = [leafHash(a), leafHash(b)];
        expect(nodeHash(x, y).equals(nodeHash(y, x))).toBe(x.equals(y));
      }),
    );
  });
});
