/**
 * The minimum upload rate (SPEC §2.3 `minUploadBytesPerSecond`): a body that arrives slower than
 * that on average over a window of 10 s is cut with 408, so that a client sending a byte a second
 * cannot hold a write slot for as long as it likes (the idle timeout restarts at every byte). A
 * window in which the Bucket itself held the body back (a blob write in progress) is not judged.
 */
import { BucketError } from '../domain/errors.js';

export const UPLOAD_RATE_WINDOW_MS = 10_000;

export interface MinimumRate {
  /** 0 never cuts. */
  readonly bytesPerSecond: number;
  readonly windowMs?: number;
}

export interface RateWatch {
  received(bytes: number): void;
  /** The Bucket paused the body (backpressure): windows until `resumed` are not judged. */
  held(): void;
  resumed(): void;
  stop(): void;
}

const IDLE: RateWatch = {
  received: () => undefined,
  held: () => undefined,
  resumed: () => undefined,
  stop: () => undefined,
};

/** Watches a body's rate; `tooSlow` is called (once) with the 408 to fail it with. */
export function watchUploadRate(
  rate: MinimumRate,
  tooSlow: (error: BucketError) => void,
): RateWatch {
  if (rate.bytesPerSecond <= 0) return IDLE;
  const windowMs = rate.windowMs ?? UPLOAD_RATE_WINDOW_MS;
  const minimum = (rate.bytesPerSecond * windowMs) / 1000;
  let bytes = 0;
  let judged = true;
  let holding = false;
  const timer = setInterval(() => {
    if (judged && bytes < minimum) {
      clearInterval(timer);
      tooSlow(
        new BucketError(
          'request_timeout',
          `the upload sent ${bytes} bytes in ${windowMs / 1000} s, under the minimum of ` +
            `${rate.bytesPerSecond} bytes/s`,
        ),
      );
      return;
    }
    bytes = 0;
    judged = !holding;
  }, windowMs);
  timer.unref();
  return {
    received: (count) => {
      bytes += count;
    },
    held: () => {
      holding = true;
      judged = false;
    },
    resumed: () => {
      holding = false;
    },
    stop: () => clearInterval(timer),
  };
}
