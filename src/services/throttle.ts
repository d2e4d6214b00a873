/**
 * The scrub's throttle (SPEC §9: never more than a fifth of the disk or CPU; docs/decisions/0035):
 * a duty cycle — after each chunk of work that took t ms, rest t·(1/share − 1) ms (4t for a fifth)
 * — so that the scrub is busy at most `share` of the wall clock whatever it waits on, and a cap on
 * the bytes read per second, so that one large blob cannot take the disk for a whole chunk.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottleOptions {
  /** The share of the wall clock the work may take (0 < share ≤ 1); a fifth by default. */
  readonly share?: number;
  /** Bytes read per second at most (0: no cap); 32 MiB/s by default. */
  readonly bytesPerSecond?: number;
  /** Aborts the work at its next rest or read (a node stopping). */
  readonly signal?: AbortSignal;
}

export const SCRUB_SHARE = 0.2;
export const SCRUB_BYTES_PER_SECOND = 32 * 1024 * 1024;

export class Throttle {
  private readonly share: number;
  private readonly bytesPerSecond: number;
  private readonly signal: AbortSignal | undefined;
  private busySince = performance.now();
  private bytesStarted = performance.now();
  private bytes = 0;
  /** Total time spent resting, for the scrub's report and the bench. */
  restedMs = 0;

  constructor(options: ThrottleOptions = {}) {
    this.share = Math.min(1, Math.max(0.01, options.share ?? SCRUB_SHARE));
    this.bytesPerSecond = options.bytesPerSecond ?? SCRUB_BYTES_PER_SECOND;
    this.signal = options.signal;
  }

  /** Ends a chunk of work begun at the last rest: rests in proportion to the time it took. */
  async rest(): Promise<void> {
    this.signal?.throwIfAborted();
    const busy = performance.now() - this.busySince;
    const pause = busy * (1 / this.share - 1);
    if (pause >= 1) {
      await sleep(pause, undefined, { signal: this.signal });
      this.restedMs += pause;
    }
    this.busySince = performance.now();
  }

  /** Counts `count` bytes read; waits while the reads are ahead of the byte cap. */
  async read(count: number): Promise<void> {
    this.signal?.throwIfAborted();
    if (this.bytesPerSecond <= 0) return;
    this.bytes += count;
    const due = (this.bytes / this.bytesPerSecond) * 1000;
    const ahead = due - (performance.now() - this.bytesStarted);
    if (ahead >= 1) {
      // Time spent waiting on the cap is rest, not work: the duty cycle does not count it.
      await sleep(ahead, undefined, { signal: this.signal });
      this.restedMs += ahead;
      this.busySince += ahead;
    }
  }

  /** `source` with a rest after every `every` items. */
  async *paced<T>(source: AsyncIterable<T> | Iterable<T>, every: number): AsyncIterable<T> {
    let count = 0;
    for await (const item of source) {
      yield item;
      count += 1;
      if (count % every === 0) await this.rest();
    }
  }
}
