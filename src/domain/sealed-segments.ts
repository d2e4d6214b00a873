/**
 * Sealed segments: a subject-bound content encrypted at rest (SPEC §8, docs/decisions/0033).
 *
 * A content of n plaintext bytes is cut into segments of SEGMENT_BYTES (the last one shorter;
 * an empty content is one empty segment), each sealed with AES-256-GCM (NIST SP 800-38D):
 *
 *     contentKey = HKDF-SHA256(ikm = subject key, salt = content id, info = KEY_INFO, 32)   (RFC 5869)
 *     nonce(i)   = 0x00000000 ‖ uint64be(i)
 *     aad(i)     = AAD_LABEL ‖ content id ‖ uint64be(i) ‖ (0x01 if i is the last segment else 0x00)
 *     sealed(i)  = ciphertext(i) ‖ tag(i)                                 (16-byte tag)
 *
 * The content id (32 random bytes) is the content's own: its key is used for no other content, so
 * a nonce is never reused under a key. The associated data binds each segment to its content, its
 * place and whether it ends the content: segments reordered, swapped between contents, dropped or
 * cut off fail to open, and no plaintext of a segment is given out before its tag is checked.
 * Pure functions and two small incremental classes; no I/O.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';

export const SEGMENT_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
export const SUBJECT_KEY_BYTES = 32;
export const CONTENT_ID_BYTES = 32;
const KEY_INFO = Buffer.from('bhiv-bucket content key v1', 'utf8');
const AAD_LABEL = Buffer.from('bhiv-bucket segment v1\n', 'utf8');

/** A segment that does not open: altered, moved, from another content, or missing. */
export class SegmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SegmentError';
  }
}

/** The key of one content, derived from its subject's key and its id (RFC 5869). */
export function contentKey(subjectKey: Buffer, contentId: Buffer): Buffer {
  if (subjectKey.length !== SUBJECT_KEY_BYTES) throw new Error('a subject key is 32 bytes');
  if (contentId.length !== CONTENT_ID_BYTES) throw new Error('a content id is 32 bytes');
  return Buffer.from(hkdfSync('sha256', subjectKey, contentId, KEY_INFO, 32));
}

/** How many segments a content of `size` plaintext bytes has (an empty one has one). */
export function segmentCount(size: number): number {
  return size === 0 ? 1 : Math.ceil(size / SEGMENT_BYTES);
}

/** The sealed length of a content of `size` plaintext bytes. */
export function sealedSize(size: number): number {
  return size + TAG_BYTES * segmentCount(size);
}

/** The plaintext length of segment `index` of a content of `size` bytes. */
function plainLength(index: number, size: number): number {
  return index < segmentCount(size) - 1 ? SEGMENT_BYTES : size - SEGMENT_BYTES * index;
}

function nonceOf(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

function aadOf(contentId: Buffer, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = last ? 1 : 0;
  return Buffer.concat([AAD_LABEL, contentId, tail]);
}

export function sealSegment(
  key: Buffer,
  contentId: Buffer,
  index: number,
  last: boolean,
  plaintext: Buffer,
): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonceOf(index));
  cipher.setAAD(aadOf(contentId, index, last));
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext of a sealed segment; SegmentError when it is not segment `index` of this content. */
export function openSegment(
  key: Buffer,
  contentId: Buffer,
  index: number,
  last: boolean,
  sealed: Buffer,
): Buffer {
  if (sealed.length < TAG_BYTES) throw new SegmentError(`segment ${index} is cut short`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(index));
    decipher.setAAD(aadOf(contentId, index, last));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    return Buffer.concat([body, decipher.final()]);
  } catch {
    throw new SegmentError(`segment ${index} does not open: altered, moved or from elsewhere`);
  }
}

/** Seals a whole content held in memory (a small, inline one). */
export function sealAll(key: Buffer, contentId: Buffer, plaintext: Buffer): Buffer {
  const sealer = new SegmentSealer(key, contentId);
  return Buffer.concat([...sealer.push(plaintext), sealer.finish()]);
}

/** Opens a whole sealed content of `size` plaintext bytes held in memory. */
export function openAll(key: Buffer, contentId: Buffer, size: number, sealed: Buffer): Buffer {
  const opener = new SegmentOpener(key, contentId, size);
  const parts = opener.push(sealed);
  opener.finish();
  return Buffer.concat(parts);
}

/**
 * Seals a content as it arrives: `push` answers the segments completed so far, `finish` the last.
 * At most one segment's plaintext is held (a full segment waits until it is known not to be last).
 */
export class SegmentSealer {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private index = 0;
  private finished = false;

  constructor(
    private readonly key: Buffer,
    private readonly contentId: Buffer,
  ) {}

  push(chunk: Buffer): Buffer[] {
    if (this.finished) throw new Error('the content is sealed already');
    const out: Buffer[] = [];
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= SEGMENT_BYTES) return out;
    let pending = Buffer.concat(this.held, this.heldBytes);
    // A full segment is sealed only once a byte after it has arrived: then it is not the last.
    while (pending.length > SEGMENT_BYTES) {
      out.push(this.seal(pending.subarray(0, SEGMENT_BYTES), false));
      pending = pending.subarray(SEGMENT_BYTES);
    }
    this.held = [pending];
    this.heldBytes = pending.length;
    return out;
  }

  finish(): Buffer {
    if (this.finished) throw new Error('the content is sealed already');
    this.finished = true;
    return this.seal(Buffer.concat(this.held, this.heldBytes), true);
  }

  private seal(plaintext: Buffer, last: boolean): Buffer {
    const sealed = sealSegment(this.key, this.contentId, this.index, last, plaintext);
    this.index += 1;
    return sealed;
  }
}

/** Which sealed bytes hold a plaintext range, and where the range sits in their plaintext. */
export interface SealedSpan {
  readonly firstSegment: number;
  readonly segments: number;
  /** Inclusive byte offsets in the sealed content. */
  readonly sealedStart: number;
  readonly sealedEnd: number;
  /** Plaintext bytes to drop before the range, in the first segment. */
  readonly skip: number;
  /** The range's length. */
  readonly length: number;
}

/**
 * The segments a plaintext range (inclusive, within a content of `size` bytes) touches, and where
 * they are sealed: a Range read opens those segments only.
 */
export function sealedSpan(range: { start: number; end: number }, size: number): SealedSpan {
  if (range.start < 0 || range.end < range.start || range.end >= size) {
    throw new RangeError(`range ${range.start}-${range.end} is outside a content of ${size} bytes`);
  }
  const stride = SEGMENT_BYTES + TAG_BYTES;
  const firstSegment = Math.floor(range.start / SEGMENT_BYTES);
  const lastSegment = Math.floor(range.end / SEGMENT_BYTES);
  return {
    firstSegment,
    segments: lastSegment - firstSegment + 1,
    sealedStart: firstSegment * stride,
    sealedEnd: Math.min((lastSegment + 1) * stride, sealedSize(size)) - 1,
    skip: range.start - firstSegment * SEGMENT_BYTES,
    length: range.end - range.start + 1,
  };
}

/**
 * Opens sealed segments as they arrive, each checked against its expected place in a content of
 * `size` plaintext bytes: from segment `first`, `count` of them (the whole content by default).
 * `push` answers plaintext only of segments whose tag verified; bytes beyond the expected
 * segments, or a `finish` before all of them arrived, are a SegmentError.
 */
export class SegmentOpener {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private index: number;
  private readonly end: number;
  private readonly total: number;

  constructor(
    private readonly key: Buffer,
    private readonly contentId: Buffer,
    private readonly size: number,
    first = 0,
    count = segmentCount(size) - first,
  ) {
    this.total = segmentCount(size);
    this.index = first;
    this.end = first + count;
    if (first < 0 || count < 1 || this.end > this.total) throw new RangeError('no such segments');
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (chunk.length === 0) return out;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    let pending: Buffer | null = null;
    while (this.index < this.end) {
      const want = plainLength(this.index, this.size) + TAG_BYTES;
      if (this.heldBytes < want) break;
      pending ??= Buffer.concat(this.held, this.heldBytes);
      const last = this.index === this.total - 1;
      out.push(openSegment(this.key, this.contentId, this.index, last, pending.subarray(0, want)));
      pending = pending.subarray(want);
      this.heldBytes -= want;
      this.held = [pending];
      this.index += 1;
    }
    if (this.index === this.end && this.heldBytes > 0) {
      throw new SegmentError('sealed bytes follow the last segment');
    }
    return out;
  }

  /** Throws when segments are missing (the content was cut short). */
  finish(): void {
    if (this.index < this.end) {
      throw new SegmentError(`the sealed content ends before segment ${this.index}`);
    }
  }
}
