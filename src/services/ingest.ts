/**
 * Receiving a body: hash and count it as it streams, stop as soon as it passes its limit, and keep
 * it either in memory (small contents, or contents the gate must inspect) or in a blob writer —
 * never a whole large body in memory.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore, BlobWriter } from '../storage/ports.js';

export interface IngestOptions {
  /** The most bytes the body may have. */
  readonly limit: number;
  /** Keep the whole body in memory (the gate inspects it); it is at most `limit` bytes. */
  readonly buffer: boolean;
  /** Bodies up to this size stay in memory to be stored inline. */
  readonly inlineMax: number;
}

export interface Ingested {
  readonly size: number;
  readonly sha256: string;
  /** The bytes, when they were kept in memory. */
  readonly bytes: Buffer | null;
  /** The blob writer holding the bytes otherwise; the caller commits or aborts it. */
  readonly writer: BlobWriter | null;
}

/** The body passed its limit; `size` is how many bytes had arrived when reading stopped. */
export class BodyTooLargeError extends Error {
  constructor(readonly size: number) {
    super(`body exceeds ${size - 1} bytes`);
  }
}

export async function ingest(
  body: Readable,
  blobs: BlobStore,
  options: IngestOptions,
): Promise<Ingested> {
  const hash = createHash('sha256');
  const held: Buffer[] = [];
  let heldBytes = 0;
  let size = 0;
  let writer: BlobWriter | null = null;
  try {
    // Not destroyed on an early exit: destroying an unfinished request would reset the connection
    // before the 413 answer reaches the client.
    for await (const data of body.iterator({ destroyOnReturn: false })) {
      const chunk = data as Buffer;
      size += chunk.length;
      if (size > options.limit) throw new BodyTooLargeError(size);
      hash.update(chunk);
      if (writer) {
        await writer.write(chunk);
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.length;
      if (!options.buffer && heldBytes > options.inlineMax) {
        writer = await blobs.createWriter();
        for (const part of held.splice(0)) await writer.write(part);
        heldBytes = 0;
      }
    }
    const sha256 = hash.digest('hex');
    if (writer) return { size, sha256, bytes: null, writer };
    return { size, sha256, bytes: Buffer.concat(held, heldBytes), writer: null };
  } catch (error) {
    await writer?.abort();
    throw error;
  }
}
