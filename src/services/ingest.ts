/**
 * Receiving a body: hash and count it as it streams, stop as soon as it passes its limit, and keep
 * it either in memory (small contents, or contents the gate must inspect) or in a blob writer —
 * never a whole large body in memory. The hash and size are the plaintext's; a subject-bound
 * content reaches the blob store sealed (SPEC §8).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BucketError } from '../domain/errors.js';
import type { BlobStore, BlobWriter } from '../storage/ports.js';
import { sealingWriter, type ContentSeal } from '../storage/sealed.js';
import { watchUploadRate, type MinimumRate } from './upload-rate.js';

export interface IngestOptions {
  /** The most bytes the body may have. */
  readonly limit: number;
  /** Keep the whole body in memory (the gate inspects it); it is at most `limit` bytes. */
  readonly buffer: boolean;
  /** Bodies up to this size stay in memory to be stored inline. */
  readonly inlineMax: number;
  /** Bodies slower than this are cut with 408 (upload-rate.ts); absent: never. */
  readonly minimumRate?: MinimumRate;
  /** A subject-bound content: what goes to the blob store is sealed (storage/sealed.ts). */
  readonly seal?: ContentSeal | undefined;
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
  body: Readable | Buffer,
  blobs: BlobStore,
  options: IngestOptions,
): Promise<Ingested> {
  if (Buffer.isBuffer(body)) return ingestBytes(body, blobs, options);
  const hash = createHash('sha256');
  const held: Buffer[] = [];
  let heldBytes = 0;
  let size = 0;
  let writer: BlobWriter | null = null;
  /** The move to a blob writer, while it runs (the writer does not exist until it is opened). */
  let opening: Promise<void> | null = null;
  const receive = (chunk: Buffer): Promise<void> | undefined => {
    size += chunk.length;
    if (size > options.limit) throw new BodyTooLargeError(size);
    hash.update(chunk);
    if (writer) return writer.write(chunk);
    held.push(chunk);
    heldBytes += chunk.length;
    if (options.buffer || heldBytes <= options.inlineMax) return undefined;
    opening = (async () => {
      writer = await openWriter(blobs, options.seal);
      for (const part of held.splice(0)) await writer.write(part);
      heldBytes = 0;
    })();
    return opening;
  };
  try {
    await consume(body, receive, options.minimumRate);
    const sha256 = hash.digest('hex');
    if (writer) return { size, sha256, bytes: null, writer };
    return { size, sha256, bytes: Buffer.concat(held, heldBytes), writer: null };
  } catch (error) {
    // A client that hangs up while the writer is being opened fails the body first: the writer
    // is aborted once it exists, or its file and open handle would stay behind for ever.
    await (opening as Promise<void> | null)?.catch(() => undefined);
    await (writer as BlobWriter | null)?.abort();
    throw error;
  }
}

/**
 * A body already in memory (a batch's item): hashed and kept, or handed to a blob writer, as a
 * stream of it would be — without a stream's machinery, which costs a small item more than its
 * hash does.
 */
async function ingestBytes(
  bytes: Buffer,
  blobs: BlobStore,
  options: IngestOptions,
): Promise<Ingested> {
  if (bytes.length > options.limit) throw new BodyTooLargeError(bytes.length);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (options.buffer || bytes.length <= options.inlineMax) {
    return { size: bytes.length, sha256, bytes, writer: null };
  }
  const writer = await openWriter(blobs, options.seal);
  try {
    await writer.write(bytes);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { size: bytes.length, sha256, bytes: null, writer };
}

/** A blob writer, sealing what it is given when the content is subject-bound. */
export async function openWriter(blobs: BlobStore, seal: ContentSeal | undefined) {
  const writer = await blobs.createWriter();
  return seal ? sealingWriter(writer, seal) : writer;
}

/**
 * Feeds every chunk of `body` to `receive`, pausing the stream while a returned promise is
 * pending (backpressure). On failure the stream is paused, not destroyed: destroying an
 * unfinished request would reset the connection before a 413 answer reaches the client.
 */
function consume(
  body: Readable,
  receive: (chunk: Buffer) => Promise<void> | undefined,
  minimumRate: MinimumRate = { bytesPerSecond: 0 },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const rate = watchUploadRate(minimumRate, fail);
    /** What the last chunk started (moving to a blob writer, a write): 'end' waits for it. */
    let inFlight: Promise<void> | undefined;
    const detach = () => {
      rate.stop();
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    function fail(error: unknown) {
      if (settled) return;
      settled = true;
      detach();
      body.pause();
      reject(error);
    }
    function onData(chunk: Buffer) {
      rate.received(chunk.length);
      let pending: Promise<void> | undefined;
      try {
        pending = receive(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (pending) {
        rate.held();
        body.pause();
        inFlight = pending;
        pending.then(() => {
          if (inFlight === pending) inFlight = undefined;
          rate.resumed();
          if (!settled) body.resume();
        }, fail);
      }
    }
    function finish() {
      if (settled) return;
      settled = true;
      detach();
      resolve();
    }
    function onEnd() {
      // A paused stream still ends once its buffer is empty: the last chunk may not be written
      // yet (its blob writer still opening), and answering now would leave that writer behind.
      if (inFlight) inFlight.then(finish, fail);
      else finish();
    }
    function onClose() {
      if (!body.readableEnded) fail(clientClosed('mid-body'));
    }
    /**
     * The body's stream fails when its connection does ("aborted", a reset), or when what
     * produces it refuses the content (a decoded body whose checksum or signature fails).
     */
    function onError(error: Error) {
      fail(refusesBody(error) ? error : clientClosed('mid-body', error));
    }
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
    // A request whose client went away while the service was still deciding on it (waiting for
    // the rate, the write slot or the target lookup) was destroyed already, and a stream that has
    // ended was read by someone else: no event of either will ever come, and waiting for one
    // would hold the request's write slot for ever.
    if (body.readableEnded) fail(new Error('the body was read before it was received'));
    else if (body.destroyed) fail(clientClosed('before its body was read'));
  });
}

/**
 * An error a body's producer raises to refuse the content it decodes (the S3 door's failed
 * chunk signature or checksum): answered as itself, not as a client that went away.
 */
export function refusesBody(error: unknown): boolean {
  return (error as { refusesBody?: unknown } | null)?.refusesBody === true;
}

/** A client that went away: its own doing (499), not a failure of the Bucket. */
function clientClosed(when: string, cause?: Error): BucketError {
  const error = new BucketError('client_closed', `the client closed the connection ${when}`);
  if (cause) error.cause = cause;
  return error;
}
