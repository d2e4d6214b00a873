/**
 * Sealed contents in the stores (SPEC §8, docs/decisions/0033): a subject-bound content is kept
 * as sealed segments (domain/sealed-segments.ts), inline in its version row or in the blob store
 * under its content id — never under its plaintext's SHA-256, so that it is shared with no other
 * content and the digest in the audit log does not locate it. Writing seals as the bytes arrive;
 * reading opens only the segments a range touches. Memory stays at about one segment each way.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import {
  contentKey,
  openAll,
  sealAll,
  sealedSpan,
  SegmentOpener,
  SegmentSealer,
} from '../domain/sealed-segments.js';
import type { BlobStore, BlobWriter, ByteRange } from './ports.js';

/** What seals one content: its key (derived from the subject key) and its id. */
export interface ContentSeal {
  /** The content id, 64 hex digits: its blob's address too. */
  readonly contentId: string;
  readonly key: Buffer;
}

export function contentSeal(subjectKey: Buffer, contentId: string): ContentSeal {
  return { contentId, key: contentKey(subjectKey, Buffer.from(contentId, 'hex')) };
}

function idOf(seal: ContentSeal): Buffer {
  return Buffer.from(seal.contentId, 'hex');
}

/** A whole small content sealed in memory (inline storage). */
export function sealBytes(seal: ContentSeal, plaintext: Buffer): Buffer {
  return sealAll(seal.key, idOf(seal), plaintext);
}

/** A whole inline content opened; throws SegmentError when it does not open. */
export function openBytes(seal: ContentSeal, size: number, sealed: Buffer): Buffer {
  return openAll(seal.key, idOf(seal), size, sealed);
}

/**
 * A blob writer that seals what it is given before `inner` sees it. `commit` ignores the digest
 * it is given (the plaintext's) and stores the content under its content id.
 */
export function sealingWriter(inner: BlobWriter, seal: ContentSeal): BlobWriter {
  const sealer = new SegmentSealer(seal.key, idOf(seal));
  return {
    async write(chunk: Buffer): Promise<void> {
      for (const segment of sealer.push(chunk)) await inner.write(segment);
    },
    async commit(): Promise<void> {
      await inner.write(sealer.finish());
      await inner.commit(seal.contentId);
    },
    abort: () => inner.abort(),
  };
}

/**
 * The plaintext of a sealed stream holding the segments of `span` (or all of them): a stream that
 * fails, without the bytes of the segment that did not open, when one is altered or missing.
 */
export function openingStream(
  source: Readable,
  seal: ContentSeal,
  size: number,
  range?: ByteRange,
): Readable {
  const span = range ? sealedSpan(range, size) : null;
  const opener = new SegmentOpener(
    seal.key,
    idOf(seal),
    size,
    span?.firstSegment ?? 0,
    span?.segments,
  );
  let skip = span?.skip ?? 0;
  let left = span?.length ?? size;
  const take = (plain: Buffer): Buffer | null => {
    let part = plain;
    if (skip > 0) {
      const dropped = Math.min(skip, part.length);
      part = part.subarray(dropped);
      skip -= dropped;
    }
    if (part.length > left) part = part.subarray(0, left);
    left -= part.length;
    return part.length > 0 ? part : null;
  };
  const output = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      try {
        for (const plain of opener.push(chunk)) {
          const part = take(plain);
          if (part) this.push(part);
        }
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        opener.finish();
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  source.on('error', (error) => output.destroy(error));
  return source.pipe(output);
}

/** Reads a sealed blob (or the sealed bytes of a range of it) and opens it as it streams. */
export async function readSealedBlob(
  blobs: BlobStore,
  seal: ContentSeal,
  size: number,
  range?: ByteRange,
): Promise<Readable> {
  const span = range ? sealedSpan(range, size) : null;
  const source = await blobs.read(
    seal.contentId,
    span ? { start: span.sealedStart, end: span.sealedEnd } : undefined,
  );
  return openingStream(source, seal, size, range);
}
