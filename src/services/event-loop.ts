/**
 * The event-loop delay of this process (SPEC §15 latency limit), measured with Node's own
 * `perf_hooks`: `current()` (what shedding compares with `limits.maxEventLoopDelayMs`) is the
 * larger of the mean delay over the last sample interval (`monitorEventLoopDelay`, as
 * @fastify/under-pressure reads it) and how long the loop has been busy in the turn it is in now;
 * `p99()` is the 99th percentile over the last 10 to 20 seconds (scale-status's `latency`).
 * Decision records 0039 and 0069.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

/** The histogram's sampling resolution, subtracted from its readings (it delays by that much). */
const RESOLUTION_MS = 10;
/** How often `current()` is refreshed. */
const SAMPLE_MS = 250;
/** How long a p99 window lasts. */
const WINDOW_MS = 10_000;

export interface EventLoopDelay {
  /** Milliseconds: the mean delay over the last sample interval, or the current turn's, if longer. */
  current(): number;
  /** Milliseconds: the 99th percentile over the last window and the current one. */
  p99(): number;
  stop(): void;
}

export class EventLoopMonitor implements EventLoopDelay {
  private readonly interval: IntervalHistogram = monitorEventLoopDelay({
    resolution: RESOLUTION_MS,
  });
  private readonly window: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private delayMs = 0;
  private previousP99Ms = 0;
  private windowStarted = Date.now();
  /** The first interval measures the start itself (module loading, the app's schemas): skipped. */
  private started = false;
  private readonly timer: NodeJS.Timeout;
  private readonly turn = new TurnClock();

  constructor() {
    this.interval.enable();
    this.window.enable();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  current(): number {
    return Math.max(this.delayMs, this.turn.busyMs());
  }

  p99(): number {
    return Math.max(this.previousP99Ms, percentileMs(this.window, 99));
  }

  stop(): void {
    clearInterval(this.timer);
    this.turn.stop();
    this.interval.disable();
    this.window.disable();
  }

  private sample(): void {
    // A loop blocked for a while runs this timer first when it frees (timers before I/O), so the
    // requests that queued meanwhile meet the delay they queued behind.
    const mean = this.interval.count > 0 ? this.interval.mean / 1e6 : RESOLUTION_MS;
    this.delayMs = this.started ? Math.max(0, mean - RESOLUTION_MS) : 0;
    this.started = true;
    this.interval.reset();
    if (Date.now() - this.windowStarted >= WINDOW_MS) {
      this.previousP99Ms = percentileMs(this.window, 99);
      this.window.reset();
      this.windowStarted = Date.now();
    }
  }
}

/**
 * How long the event loop has been busy since it last passed its check phase: the delay, right
 * now, of anything that was due then — above all of the requests it is still reading in this turn,
 * which were waiting in the kernel when the turn began. A flood of short requests keeps the loop in
 * one poll phase for as long as sockets are ready; the interval mean sees that turn only once it
 * ended and a sampling timer ran, while this reading rises during it, so that the rest of the turn
 * is shed (decision record 0069). Time spent waiting for I/O is idle, not busy, and is subtracted.
 */
class TurnClock {
  private markedAt = performance.now();
  private idleAtMark = performance.eventLoopUtilization().idle;
  private immediate: NodeJS.Immediate | null = null;

  constructor() {
    this.arm();
  }

  busyMs(): number {
    const idle = performance.eventLoopUtilization().idle - this.idleAtMark;
    return Math.max(0, performance.now() - this.markedAt - idle);
  }

  stop(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }

  /** Marks every check phase: unreferenced, it neither keeps the process alive nor the poll awake. */
  private arm(): void {
    this.immediate = setImmediate(() => {
      this.markedAt = performance.now();
      this.idleAtMark = performance.eventLoopUtilization().idle;
      this.arm();
    });
    this.immediate.unref();
  }
}

export const EVENT_LOOP_DELAY_ENV = 'BUCKET_TEST_EVENT_LOOP_DELAY_MS';

/**
 * A test-only fixed reading: `BUCKET_TEST_EVENT_LOOP_DELAY_MS=<ms>` (with NODE_ENV=test, else
 * refused), so that tests on a loaded machine do not shed by accident and tests of shedding
 * need not block a loop.
 */
export function eventLoopDelayFromEnv(env: NodeJS.ProcessEnv): (() => number) | undefined {
  const value = env[EVENT_LOOP_DELAY_ENV];
  if (value === undefined || value === '') return undefined;
  if (env['NODE_ENV'] !== 'test') {
    throw new Error(`${EVENT_LOOP_DELAY_ENV} is a test hook and needs NODE_ENV=test`);
  }
  const delay = Number(value);
  if (!Number.isFinite(delay) || delay < 0) {
    throw new Error(`${EVENT_LOOP_DELAY_ENV} must be a number of milliseconds, not "${value}"`);
  }
  return () => delay;
}

/** A fixed reading (tests: shedding forced without blocking the loop). */
export function fixedDelay(delayMs: () => number): EventLoopDelay {
  return { current: delayMs, p99: delayMs, stop: () => undefined };
}

function percentileMs(histogram: IntervalHistogram, percentile: number): number {
  if (histogram.count === 0) return 0;
  return Math.max(0, histogram.percentile(percentile) / 1e6 - RESOLUTION_MS);
}
