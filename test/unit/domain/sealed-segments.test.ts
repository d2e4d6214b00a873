/**
 * The sealed-segment format of subject-bound contents (SPEC §8, docs/decisions/0033): a pinned
 * vector, Range reads across segment boundaries (property), and tampering — segments reordered,
 * swapped between contents, dropped, cut short or altered — failing without giving plaintext.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contentKey,
  openAll,
  sealAll,
  sealedSize,
  SEGMENT_BYTES,
  SegmentError,
  SegmentSealer,
  TAG_BYTES,
} from '../../../src/domain/sealed-segments.js';
import { contentSeal, openingStream, sealingWriter } from '../../../src/storage/sealed.js';
import type { BlobWriter } from '../../../src/storage/ports.js';

const STRIDE = SEGMENT_BYTES + TAG_BYTES;
const subjectKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const contentId = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x20 + i));
const key = contentKey(subjectKey, contentId);

function plaintextOf(size: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

/** A stream of `bytes` in chunks of `chunk` bytes (as a store or a socket hands them over). */
function chunked(bytes: Buffer, chunk: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) parts.push(bytes.subarray(at, at + chunk));
  return Readable.from(parts);
}

describe('sealed segments: the format', () => {
  it('reproduces its pinned vector (key derivation, nonce, associated data)', () => {
    // RFC 5869 HKDF-SHA256, checked independently (Python's hmac, extract then expand).
    expect(key.toString('hex')).toBe(
      '1e0c804060ee40c664846919a67335f6ee25ec786d17fb0d9ef25308508a80af',
    );
    const sealed = sealAll(key, contentId, Buffer.from('hello, subject'));
    expect(sealed.length).toBe(14 + TAG_BYTES);
    expect(sealed.toString('hex')).toBe(VECTOR_HELLO);
    // The first segment's nonce is the counter 0, and its associated data ends with "last".
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.alloc(12));
    decipher.setAAD(
      Buffer.concat([
        Buffer.from('bhiv-bucket segment v1\n'),
        contentId,
        Buffer.from('000000000000000001', 'hex'),
      ]),
    );
    decipher.setAuthTag(sealed.subarray(14));
    const opened = Buffer.concat([decipher.update(sealed.subarray(0, 14)), decipher.final()]);
    expect(opened.toString()).toBe('hello, subject');
  });

  it('keeps sizes: one tag a segment, an empty content one empty segment', () => {
    expect(sealedSize(0)).toBe(TAG_BYTES);
    expect(sealedSize(1)).toBe(1 + TAG_BYTES);
    expect(sealedSize(SEGMENT_BYTES)).toBe(STRIDE);
    expect(sealedSize(SEGMENT_BYTES + 1)).toBe(SEGMENT_BYTES + 1 + 2 * TAG_BYTES);
    for (const size of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, 2 * SEGMENT_BYTES + 5]) {
      const plain = plaintextOf(size);
      const sealed = sealAll(key, contentId, plain);
      expect(sealed.length).toBe(sealedSize(size));
      expect(openAll(key, contentId, size, sealed).equals(plain)).toBe(true);
    }
  });

  it('seals the same whatever the chunks it is given', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * SEGMENT_BYTES + 3 }),
        fc.integer({ min: 1, max: SEGMENT_BYTES * 2 }),
        (size, chunk) => {
          const plain = plaintextOf(size);
          const sealer = new SegmentSealer(key, contentId);
          const parts: Buffer[] = [];
          for (let at = 0; at < size; at += chunk) {
            parts.push(...sealer.push(plain.subarray(at, at + chunk)));
          }
          parts.push(sealer.finish());
          expect(Buffer.concat(parts).equals(sealAll(key, contentId, plain))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('puts a different key on every content of a subject', () => {
    expect(contentKey(subjectKey, randomBytes(32)).equals(key)).toBe(false);
    expect(contentKey(randomBytes(32), contentId).equals(key)).toBe(false);
  });
});

describe('sealed segments: Range reads open only the segments they touch', () => {
  it('answers every range of a content exactly (property, across segment boundaries)', async () => {
    const size = 3 * SEGMENT_BYTES + 1234;
    const plain = plaintextOf(size);
    const sealed = sealAll(key, contentId, plain);
    const seal = { contentId: contentId.toString('hex'), key };
    // Ranges drawn near the boundaries as often as anywhere.
    const boundary = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -3, max: 3 }))
      .map(([segment, offset]) =>
        Math.min(size - 1, Math.max(0, segment * SEGMENT_BYTES + offset)),
      );
    const offset = fc.oneof(boundary, fc.integer({ min: 0, max: size - 1 }));
    await fc.assert(
      fc.asyncProperty(offset, offset, fc.integer({ min: 1, max: 70_000 }), async (a, b, chunk) => {
        const range = { start: Math.min(a, b), end: Math.max(a, b) };
        const first = Math.floor(range.start / SEGMENT_BYTES);
        const last = Math.floor(range.end / SEGMENT_BYTES);
        // Exactly the sealed bytes of the touched segments are read.
        const slice = sealed.subarray(first * STRIDE, Math.min((last + 1) * STRIDE, sealed.length));
        const opened = await collect(openingStream(chunked(slice, chunk), seal, size, range));
        expect(opened.equals(plain.subarray(range.start, range.end + 1))).toBe(true);
      }),
      { numRuns: 120 },
    );
  });
});

describe('sealed segments: tampering fails, and never with plaintext', () => {
  const size = 3 * SEGMENT_BYTES + 100;
  const plain = plaintextOf(size);
  const sealed = sealAll(key, contentId, plain);
  const seal = { contentId: contentId.toString('hex'), key };
  const segment = (i: number) =>
    sealed.subarray(i * STRIDE, Math.min((i + 1) * STRIDE, sealed.length));

  /** What a reader of the whole content receives before the stream fails. */
  async function received(bytes: Buffer): Promise<{ bytes: Buffer; error: unknown }> {
    const parts: Buffer[] = [];
    try {
      for await (const part of openingStream(chunked(bytes, 4096), seal, size)) {
        parts.push(part as Buffer);
      }
      return { bytes: Buffer.concat(parts), error: null };
    } catch (error) {
      return { bytes: Buffer.concat(parts), error };
    }
  }

  const cases: [string, () => Buffer, number][] = [
    [
      'two segments swapped',
      () => Buffer.concat([segment(1), segment(0), segment(2), segment(3)]),
      0,
    ],
    [
      'a segment repeated',
      () => Buffer.concat([segment(0), segment(0), segment(2), segment(3)]),
      1,
    ],
    ['the last segment dropped', () => Buffer.concat([segment(0), segment(1), segment(2)]), 3],
    ['cut inside the last segment', () => sealed.subarray(0, sealed.length - 1), 3],
    ['a byte appended', () => Buffer.concat([sealed, Buffer.from([0])]), 3],
    [
      'a bit flipped in segment 2',
      () => {
        const copy = Buffer.from(sealed);
        copy[2 * STRIDE + 10] = (copy[2 * STRIDE + 10] ?? 0) ^ 1;
        return copy;
      },
      2,
    ],
    [
      'a segment of another content of the same subject',
      () => {
        const otherId = randomBytes(32);
        const other = sealAll(contentKey(subjectKey, otherId), otherId, plain);
        return Buffer.concat([
          segment(0),
          other.subarray(STRIDE, 2 * STRIDE),
          segment(2),
          segment(3),
        ]);
      },
      1,
    ],
  ];

  it.each(cases)('%s', async (_name, tampered, intact) => {
    const { bytes, error } = await received(tampered());
    expect(error).toBeInstanceOf(SegmentError);
    // Only the segments before the first bad one were given out, each one verified.
    expect(bytes.length).toBeLessThanOrEqual(intact * SEGMENT_BYTES);
    expect(bytes.equals(plain.subarray(0, bytes.length))).toBe(true);
  });

  it('a truncation to whole segments fails even though each remaining segment opens', () => {
    // Segments 0–2 sealed as not last: the recorded size still asks for segment 3.
    expect(() =>
      openAll(key, contentId, 3 * SEGMENT_BYTES, sealed.subarray(0, 3 * STRIDE)),
    ).toThrow(SegmentError);
    expect(() => openAll(key, contentId, size, sealed.subarray(0, 3 * STRIDE))).toThrow(
      SegmentError,
    );
  });

  it('the wrong key opens nothing', () => {
    const wrong = contentKey(randomBytes(32), contentId);
    expect(() => openAll(wrong, contentId, size, sealed)).toThrow(SegmentError);
  });
});

describe('sealed segments: the sealing blob writer', () => {
  it('stores sealed bytes under the content id, never the plaintext', async () => {
    const written: Buffer[] = [];
    let committed = '';
    const inner: BlobWriter = {
      write: async (chunk) => void written.push(Buffer.from(chunk)),
      commit: async (address) => void (committed = address),
      abort: async () => undefined,
    };
    const id = randomBytes(32).toString('hex');
    const seal = contentSeal(subjectKey, id);
    const writer = sealingWriter(inner, seal);
    const plain = plaintextOf(2 * SEGMENT_BYTES + 9);
    for (let at = 0; at < plain.length; at += 10_000)
      await writer.write(plain.subarray(at, at + 10_000));
    await writer.commit('f'.repeat(64));
    expect(committed).toBe(id);
    const stored = Buffer.concat(written);
    expect(stored.length).toBe(sealedSize(plain.length));
    expect(stored.includes(plain.subarray(0, 64))).toBe(false);
    expect(await collect(openingStream(chunked(stored, 999), seal, plain.length))).toEqual(plain);
  });
});

/** "hello, subject" sealed with the key and content id above (the format's pinned vector). */
const VECTOR_HELLO = 'fdcee83c834b57dac304c074fe598b8ff41b0a0033a93a60b9a6af7ec216';
