/**
 * Receiving a body (services/ingest.ts): the same digest, size and bytes whether the body streams
 * in or had already arrived whole with its headers, the limit held either way, and a body whose
 * last chunk moves it to a blob writer received only once that writer holds it.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BodyTooLargeError, ingest } from '../../../src/services/ingest.js';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { sha256 } from '../../helpers/hash.js';

let dir: string;
let blobs: FileBlobStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bucket-ingest-'));
  blobs = new FileBlobStore(dir);
  await blobs.init();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** A body whose bytes have all arrived before it is read: buffered in the stream, and ended. */
function arrived(chunks: Buffer[]): Readable {
  const body = new PassThrough();
  for (const chunk of chunks) body.write(chunk);
  body.end();
  return body;
}

const options = { limit: 4096, buffer: false, inlineMax: 2048 };

describe('ingest', () => {
  it('reads a body that arrived whole exactly as one that streams in', async () => {
    const parts = [Buffer.from('{"a":'), Buffer.alloc(1000, 0x31), Buffer.from('}')];
    const whole = Buffer.concat(parts);
    const fromBuffer = await ingest(arrived(parts), blobs, options);
    const streamed = await ingest(Readable.from(parts), blobs, options);
    for (const received of [fromBuffer, streamed]) {
      expect(received).toMatchObject({ size: whole.length, sha256: sha256(whole), writer: null });
      expect(received.bytes?.equals(whole)).toBe(true);
    }
  });

  it('fails, never hangs, on a body whose connection closed before it was read', async () => {
    // A request's stream is destroyed when its client goes away while the service still awaits
    // the rate, the slot or the target lookup: no event of it will ever come.
    const gone = arrived([Buffer.from('{"a":1}')]);
    gone.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(ingest(gone, blobs, options)).rejects.toThrow(/closed the connection/);
    const cut = new PassThrough();
    cut.write(Buffer.from('{"a":'));
    cut.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(ingest(cut, blobs, options)).rejects.toThrow(/closed the connection/);
    expect(await readdir(join(dir, 'tmp')).catch(() => [])).toEqual([]);
    // A stream another reader has already drained ends no more: refused, not waited on.
    const drained = arrived([Buffer.from('{}')]);
    drained.resume();
    await new Promise((resolve) => drained.once('end', resolve));
    await expect(ingest(drained, blobs, options)).rejects.toThrow(/read before it was received/);
  });

  it('reads an empty body that arrived whole', async () => {
    const received = await ingest(arrived([]), blobs, options);
    expect(received).toMatchObject({ size: 0, sha256: sha256(Buffer.alloc(0)) });
    expect(received.bytes?.length).toBe(0);
  });

  it('refuses a body past its limit, arrived whole or streaming', async () => {
    const big = [Buffer.alloc(3000, 1), Buffer.alloc(3000, 2)];
    await expect(ingest(arrived(big), blobs, options)).rejects.toBeInstanceOf(BodyTooLargeError);
    await expect(ingest(Readable.from(big), blobs, options)).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
  });

  it('holds a body whose last chunk passes the inline size in a blob writer, none left behind', async () => {
    // One chunk above the inline size, then the end: the stream ends while the writer opens.
    const content = Buffer.alloc(3000, 7);
    for (const body of [arrived([content]), Readable.from([content])]) {
      const received = await ingest(body, blobs, options);
      expect(received).toMatchObject({ size: 3000, sha256: sha256(content), bytes: null });
      expect(received.writer).not.toBeNull();
      await received.writer?.abort();
    }
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('aborts a writer still opening when its client hangs up, leaving no file behind', async () => {
    // The writer opens only once the test says so: the client is gone by then.
    let open: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const slowBlobs = Object.assign(Object.create(blobs) as FileBlobStore, {
      createWriter: async () => {
        const writer = await blobs.createWriter();
        await opened;
        return writer;
      },
    });
    const body = new PassThrough();
    const receiving = ingest(body, slowBlobs, options);
    body.write(Buffer.alloc(3000, 7));
    await new Promise((resolve) => setImmediate(resolve));
    body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    const failure = receiving.catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));
    open();
    const error = await failure;
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(error).toMatchObject({ code: 'client_closed', status: 499 });
  });

  it('cuts a body slower than the minimum rate with 408, and keeps one that is fast enough', async () => {
    const minimumRate = { bytesPerSecond: 1000, windowMs: 100 };
    const trickle = new PassThrough();
    const timer = setInterval(() => trickle.write(Buffer.from('x')), 10);
    try {
      await expect(ingest(trickle, blobs, { ...options, minimumRate })).rejects.toMatchObject({
        code: 'request_timeout',
        status: 408,
      });
    } finally {
      clearInterval(timer);
    }
    const content = Buffer.alloc(3000, 5);
    const received = await ingest(arrived([content]), blobs, { ...options, minimumRate });
    expect(received.size).toBe(3000);
    await received.writer?.abort();
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });
});
