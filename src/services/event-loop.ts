/**
 * The event-loop delay of this process (SPEC §15 latency limit), measured with Node's own
 * `perf_hooks.monitorEventLoopDelay`: `current()` is the mean delay over the last sample interval
 * (what shedding compares with `limits.maxEventLoopDelayMs`, as @fastify/under-pressure does), and
 * `p99()` the 99th percentile over the last 10 to 20 seconds (scale-status's `latency`).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The histogram's sampling resolution, subtracted from its readings (it delays by that much). */
const RESOLUTION_MS = 10;
/** How often `current()` is refreshed. */
const SAMPLE_MS = 250;
/** How long a p99 window lasts. */
const WINDOW_MS = 10_000;

export interface EventLoopDelay {
  /** Milliseconds: the mean delay over the last sample interval. */
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

  constructor() {
    this.interval.enable();
    this.window.enable();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  current(): number {
    return this.delayMs;
  }

  p99(): number {
    return Math.max(this.previousP99Ms, percentileMs(this.window, 99));
  }

  stop(): void {
    clearInterval(this.timer);
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
