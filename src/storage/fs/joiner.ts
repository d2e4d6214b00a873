/**
 * Stored contents read, checked and hashed as one off the event loop (an S3 multipart completion,
 * decision records 0051 and 0064), by two worker threads at once, each reading the sources in
 * 1 MiB chunks: one checks each source against its SHA-256 address, the other hashes the whole.
 * Both hashes are CPU-bound and a completion's client sits waiting, so two threads answer in
 * about half the time of one doing both. With a destination the whole's thread also writes every
 * chunk there (the next read while the chunk before is written) and syncs the file: what is
 * hashed is what is stored. Without one it only reads: the embedded store keeps a joined content
 * as links to its sources (composite.ts), and the sources it reads are those links.
 */
import { Worker } from 'node:worker_threads';

/** Bytes per chunk read, hashed and written. */
const CHUNK = 1024 * 1024;
/** Written bytes are flushed to the disk in the background every this many (as blobs.ts does). */
const WRITEBACK_BYTES = 32 * 1024 * 1024;

/** The worker, as plain JavaScript (evaluated: no file to find under `src/` or `dist/`). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { open } = require('node:fs/promises');
async function writeAll(out, chunk, position) {
  let written = 0;
  while (written < chunk.length) {
    written += (await out.write(chunk, written, chunk.length - written, position + written)).bytesWritten;
  }
}
// message.check: check each source against its address (and nothing else); otherwise hash the
// whole (and write it to message.dest, when given).
async function join(message) {
  const check = message.check === true;
  const whole = check ? null : createHash('sha256');
  // Two buffers: the next chunk is read while the one before is written.
  const buffers = [Buffer.allocUnsafeSlow(${CHUNK}), Buffer.allocUnsafeSlow(${CHUNK})];
  let turn = 0;
  let writing = Promise.resolve();
  const out = !check && message.dest ? await open(message.dest, 'wx', 0o600) : null;
  let size = 0;
  // A background sync now and then lets the disk work while bytes are still written, instead of
  // the final sync waiting for all of them at once; one at a time.
  let writeback = null;
  let synced = 0;
  try {
    for (const source of message.sources) {
      const part = check ? createHash('sha256') : null;
      for (const path of source.paths) {
        const file = await open(path, 'r');
        try {
          for (;;) {
            const buffer = buffers[turn];
            turn = 1 - turn;
            const { bytesRead } = await file.read(buffer, 0, ${CHUNK}, null);
            if (bytesRead === 0) break;
            const chunk = buffer.subarray(0, bytesRead);
            if (part) part.update(chunk);
            else whole.update(chunk);
            // The write before used the other buffer: it must end before that one is read into.
            await writing;
            if (out) writing = writeAll(out, chunk, size);
            size += bytesRead;
            if (out && writeback === null && size - synced >= ${WRITEBACK_BYTES}) {
              const upTo = size;
              writeback = writing.then(() => out.datasync()).then(
                () => { synced = upTo; writeback = null; },
                () => { writeback = null; },
              );
            }
          }
        } finally {
          await writing.catch(() => undefined);
          await file.close().catch(() => undefined);
        }
      }
      await writing;
      if (part && part.digest('hex') !== source.sha256) return { mismatch: source.sha256 };
    }
    await writeback;
    if (out) await out.sync();
    return check ? { checked: true, size } : { sha256: whole.digest('hex'), size };
  } finally {
    await writing.catch(() => undefined);
    await writeback;
    if (out) await out.close().catch(() => undefined);
  }
}
parentPort.on('message', (message) => {
  join(message).then(
    (result) => parentPort.postMessage({ id: message.id, ...result }),
    (error) => parentPort.postMessage({ id: message.id, error: String(error && error.message), code: error && error.code }),
  );
});
`;

/**
 * A source of a join: a stored content's files (one, or a composite's, in order) and the SHA-256
 * they must have, one after the other.
 */
export interface JoinSource {
  readonly paths: readonly string[];
  readonly sha256: string;
}

/** The joined file's digest and size, or the address of a source that no longer matches it. */
export type JoinOutcome =
  { readonly sha256: string; readonly size: number } | { readonly mismatch: string };

type WorkerOutcome = { readonly size: number } & (
  { readonly sha256: string } | { readonly checked: true } | { readonly mismatch: string }
);
type WorkerAnswer = ({ id: number } & WorkerOutcome) | { id: number; error: string; code?: string };

/** One joining thread (started on first use), its requests answered by id. */
class JoinThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(outcome: WorkerOutcome): void; reject(error: Error): void }
  >();

  run(message: { sources: readonly JoinSource[]; dest: string | null; check: boolean }) {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<WorkerOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if ('error' in answer) {
        waiting.reject(Object.assign(new Error(answer.error), { code: answer.code }));
      } else {
        const { id: _id, ...outcome } = answer;
        waiting.resolve(outcome);
      }
    });
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting.reject(error);
      }
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the joining worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}

class Joiner {
  /** Hashes the whole (and writes it); checks the sources meanwhile. */
  private readonly hashing = new JoinThread();
  private readonly checking = new JoinThread();

  /**
   * Checks the sources, in order, and hashes them as one; with `dest`, also writes them into it
   * (created, never overwritten) and syncs it. A source that no longer matches its address is
   * the outcome, whatever the whole hashed to.
   */
  async join(sources: readonly JoinSource[], dest: string | null): Promise<JoinOutcome> {
    const [whole, checked] = await Promise.allSettled([
      this.hashing.run({ sources, dest, check: false }),
      this.checking.run({ sources, dest: null, check: true }),
    ]);
    if (checked.status === 'fulfilled' && 'mismatch' in checked.value) {
      return { mismatch: checked.value.mismatch };
    }
    if (whole.status === 'rejected') throw whole.reason;
    if (checked.status === 'rejected') throw checked.reason;
    const outcome = whole.value;
    if (!('sha256' in outcome)) throw new Error('the joining worker hashed no whole');
    // Each thread read the sources itself: what was checked must be what was hashed.
    if (checked.value.size !== outcome.size) {
      throw new Error('the sources changed while they were joined');
    }
    return { sha256: outcome.sha256, size: outcome.size };
  }
}

/** The process's one joiner (its workers are started on first use). */
export const joiner = new Joiner();
