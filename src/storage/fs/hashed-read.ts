/**
 * Whole-file reads hashed off the event loop (integrity on read, SPEC §9). One worker thread reads
 * a blob file (or the files of a content kept as its parts, one after the other: composite.ts) and
 * hashes every chunk it reads with SHA-256, then hands that very chunk to the main thread (its
 * memory transferred, not copied): what is served is exactly what was hashed, and the main thread
 * only moves bytes to the socket. The digest arrives after the last chunk; the caller
 * holds that chunk back until it has compared the digest (artifacts/integrity.ts).
 *
 * Flow control: the worker reads at most WINDOW chunks ahead of what the stream's consumer has
 * taken, so a slow client holds at most WINDOW × CHUNK bytes of a read in memory. The worker is
 * started on first use, unref'd (it never keeps the process alive), and replaced when it dies —
 * every read it was serving then fails, and a failed read is never served whole.
 */
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { HashedRead } from '../ports.js';

/** Bytes per chunk read, hashed and sent (1 MiB: the fastest of 256 KiB to 2 MiB in the bench). */
const CHUNK = 1024 * 1024;
/** Chunks a read may have in flight to the main thread before its consumer takes one. */
const WINDOW = 4;

/** The worker, as plain JavaScript (evaluated: no file to find under `src/` or `dist/`). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { open } = require('node:fs/promises');
const reads = new Map();
const cancelled = new Set();
async function pump(read) {
  if (read.pumping) return;
  read.pumping = true;
  try {
    while (!read.closed && read.inFlight < ${WINDOW}) {
      const buffer = Buffer.allocUnsafeSlow(${CHUNK});
      const { bytesRead } = await read.file.read(buffer, 0, ${CHUNK}, read.filePosition);
      if (read.closed) break;
      if (bytesRead === 0 && read.next < read.paths.length) {
        // The next file of a content kept as its parts (composite.ts).
        await read.file.close();
        read.file = await open(read.paths[read.next++], 'r');
        // Cancelled meanwhile: finish() closed the file before this one, not this one.
        if (read.closed) {
          await read.file.close();
          break;
        }
        read.filePosition = 0;
        continue;
      }
      if (bytesRead === 0) {
        parentPort.postMessage({ id: read.id, end: true, sha256: read.hash.digest('hex'), size: read.position });
        await finish(read);
        break;
      }
      read.hash.update(buffer.subarray(0, bytesRead));
      read.position += bytesRead;
      read.filePosition += bytesRead;
      read.inFlight += 1;
      parentPort.postMessage({ id: read.id, chunk: buffer.buffer, length: bytesRead }, [buffer.buffer]);
    }
  } catch (error) {
    parentPort.postMessage({ id: read.id, error: String(error && error.message), code: error && error.code });
    await finish(read);
  } finally {
    read.pumping = false;
  }
}
async function finish(read) {
  if (read.closed) return;
  read.closed = true;
  reads.delete(read.id);
  await read.file.close().catch(() => undefined);
}
parentPort.on('message', async (message) => {
  if (message.op === 'open') {
    const read = { id: message.id, hash: createHash('sha256'), position: 0, filePosition: 0, paths: message.paths, next: 1, inFlight: 0, closed: false, pumping: false };
    try {
      read.file = await open(message.paths[0], 'r');
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: String(error && error.message), code: error && error.code });
      return;
    }
    if (cancelled.delete(read.id)) return void read.file.close().catch(() => undefined);
    reads.set(read.id, read);
    void pump(read);
  } else {
    const read = reads.get(message.id);
    if (!read) {
      if (message.op === 'cancel') cancelled.add(message.id);
      return;
    }
    if (message.op === 'ack') {
      read.inFlight -= message.count;
      void pump(read);
    } else if (message.op === 'cancel') void finish(read);
  }
});
`;

type WorkerMessage =
  | { id: number; chunk: ArrayBuffer; length: number }
  | { id: number; end: true; sha256: string; size: number }
  | { id: number; error: string; code?: string };

interface OpenRead {
  readonly stream: Readable;
  resolve(sha256: string): void;
  reject(error: Error): void;
  /** Chunks pushed past the stream's high-water mark: acknowledged once the consumer asks for more. */
  owed: number;
}

class HashingReader {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly reads = new Map<number, OpenRead>();

  /** Reads the files, one after the other, as one content hashed whole. */
  read(paths: readonly string[]): HashedRead {
    const worker = this.started();
    const id = this.nextId++;
    let resolve!: (sha256: string) => void;
    let reject!: (error: Error) => void;
    const digest = new Promise<string>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    // A digest nobody awaits (the stream was abandoned) must not surface as unhandled.
    digest.catch(() => undefined);
    const stream = new Readable({
      // One chunk waiting in the stream is full: more are asked of the worker as it is taken.
      highWaterMark: CHUNK,
      read: () => {
        const open = this.reads.get(id);
        if (open && open.owed > 0) {
          worker.postMessage({ op: 'ack', id, count: open.owed });
          open.owed = 0;
        }
      },
      destroy: (error, done) => {
        if (this.reads.delete(id)) {
          worker.postMessage({ op: 'cancel', id });
          reject(error ?? new Error('the read was stopped before its end'));
        }
        done(error);
      },
    });
    this.reads.set(id, { stream, resolve, reject, owed: 0 });
    worker.postMessage({ op: 'open', id, paths });
    return { stream, digest };
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.received(message));
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, open] of this.reads) {
        this.reads.delete(id);
        open.reject(error);
        open.stream.destroy(error);
      }
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the hashing worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private received(message: WorkerMessage): void {
    const open = this.reads.get(message.id);
    if (!open) return;
    if ('chunk' in message) {
      const wanted = open.stream.push(Buffer.from(message.chunk, 0, message.length));
      if (wanted) this.worker?.postMessage({ op: 'ack', id: message.id, count: 1 });
      else open.owed += 1;
    } else if ('end' in message) {
      this.reads.delete(message.id);
      open.resolve(message.sha256);
      open.stream.push(null);
    } else {
      this.reads.delete(message.id);
      const error = Object.assign(new Error(message.error), { code: message.code });
      open.reject(error);
      open.stream.destroy(error);
    }
  }
}

/** The process's one hashing reader (its worker is started on first use). */
export const hashingReader = new HashingReader();
