/**
 * The console's in-browser verifier (console/src/verify.ts, WebCrypto only) agrees with the
 * Bucket's own (src/audit): the RFC 6962 vectors' inclusion and consistency proofs, checkpoints
 * signed by the Bucket's note signer, verifier keys; and it refuses what is forged.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkpointBody,
  createSigner,
  encodeVerifierKey,
  signNote,
} from '../../../src/audit/note.js';
import {
  inclusionRoot,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
} from '../../../console/src/verify.js';

const vectorsDir = new URL('../../vectors/rfc6962/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, vectorsDir), 'utf8'));
const roots = new Map<number, Uint8Array>(
  (load('roots.json').roots as { size: number; root: string }[]).map(({ size, root }) => [
    size,
    Buffer.from(root, 'hex'),
  ]),
);
const bytesOf = (hashes: string[]) =>
  hashes.map((hash) => new Uint8Array(Buffer.from(hash, 'hex')));
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/** The hashes with one bit of hash `at` flipped. */
function flipped(hashes: string[], at: number): Uint8Array[] {
  const out = bytesOf(hashes);
  const hash = out[at]!;
  hash[0] = (hash[0] ?? 0) ^ 1;
  return out;
}

describe('console verifier', () => {
  it('reaches the RFC 6962 roots from every inclusion vector, and not from a changed one', async () => {
    const vectors = load('inclusion.json').inclusion as {
      size: number;
      index: number;
      leafHash: string;
      proof: string[];
    }[];
    expect(vectors.length).toBeGreaterThan(50);
    for (const v of vectors) {
      const leaf = new Uint8Array(Buffer.from(v.leafHash, 'hex'));
      const root = await inclusionRoot(v.index, v.size, leaf, bytesOf(v.proof));
      expect(hexOf(root), `${v.index} in ${v.size}`).toBe(hexOf(roots.get(v.size)!));
      if (v.proof.length > 0) {
        const wrong = await inclusionRoot(v.index, v.size, leaf, flipped(v.proof, 0));
        expect(hexOf(wrong)).not.toBe(hexOf(roots.get(v.size)!));
      }
    }
  });

  it('accepts every consistency vector and refuses a changed proof or swapped roots', async () => {
    const vectors = load('consistency.json').consistency as {
      from: number;
      to: number;
      proof: string[];
    }[];
    for (const v of vectors) {
      const from = roots.get(v.from)!;
      const to = roots.get(v.to)!;
      await verifyConsistency(v.from, v.to, from, to, bytesOf(v.proof));
      if (v.proof.length > 0) {
        const changed = flipped(v.proof, v.proof.length - 1);
        await expect(verifyConsistency(v.from, v.to, from, to, changed)).rejects.toThrow();
      }
      if (v.from > 0 && v.from < v.to) {
        await expect(verifyConsistency(v.from, v.to, to, from, bytesOf(v.proof))).rejects.toThrow();
      }
    }
  });

  it('hashes a leaf as SHA-256(0x00 ‖ entry bytes)', async () => {
    expect(hexOf(await leafHash('leaf-0'))).toBe(
      '305df59f9590c3c9ac63d2b2743c388e3792449078cebf7fb3dbe6471643b2b7',
    );
  });

  it('opens a checkpoint the Bucket signed, with the verifier key the Bucket encodes', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = createSigner('bucket.test/log', privateKey);
    const vkey = encodeVerifierKey(signer.name, signer.publicKey);
    const root = Buffer.alloc(32, 9);
    const note = signNote(
      checkpointBody({ origin: signer.name, size: 42, rootHash: root }),
      signer,
    );
    const key = await parseVerifierKey(vkey);
    expect(hexOf(key.keyId)).toBe(signer.keyId.toString('hex'));
    const opened = await openCheckpoint(note, key);
    expect(opened).toMatchObject({ origin: 'bucket.test/log', size: 42 });
    expect(hexOf(opened.root)).toBe(root.toString('hex'));

    const forged = note.replace('\n42\n', '\n43\n');
    await expect(openCheckpoint(forged, key)).rejects.toThrow(
      'the checkpoint signature does not verify with the pinned key',
    );
    const other = createSigner('bucket.test/log', generateKeyPairSync('ed25519').privateKey);
    const otherKey = await parseVerifierKey(encodeVerifierKey(other.name, other.publicKey));
    await expect(openCheckpoint(note, otherKey)).rejects.toThrow('no signature by the pinned key');
    await expect(parseVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).rejects.toThrow(
      'does not match',
    );
  });
});
