/**
 * Paced load for the rate tests: requests sent at a fixed rate without waiting for the answers,
 * and the timed assertions that only `npm run test:timed` runs.
 */
import { it } from 'vitest';
import { sleep } from './http.js';

/**
 * Calls `send` `perSecond` times a second for `durationMs` without waiting for the answers; the
 * answers, in order, and the seconds the sending took.
 */
export async function paced<T>(
  perSecond: number,
  durationMs: number,
  send: (index: number) => Promise<T>,
): Promise<{ answers: T[]; seconds: number }> {
  const pending: Promise<T>[] = [];
  const started = performance.now();
  for (let index = 0; ; index++) {
    const due = started + (index * 1000) / perSecond;
    if (due - started >= durationMs) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(send(index));
  }
  const seconds = (performance.now() - started) / 1000;
  return { answers: await Promise.all(pending), seconds };
}

/** `npm run test:timed` sets it: accepted rates measured against the clock. */
export const TIMED = process.env['BUCKET_TEST_TIMED'] === '1';

/**
 * A test whose assertion is a measured rate (within a tolerance of a limit): it fails on a busy
 * machine for no fault of the code, so `npm test` leaves it out; `npm run test:timed` runs it.
 * Every such test has a behaviour test beside it that `npm test` runs.
 */
export function timed(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  it.runIf(TIMED)(`[timed] ${name}`, fn, timeoutMs);
}
