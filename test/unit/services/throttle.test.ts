/**
 * The scrub's throttle (SPEC §9: at most a fifth of the machine): after t ms of work it rests
 * 4t ms (a duty cycle of a fifth), reads run no faster than the byte cap, and a stopping node's
 * abort ends a rest at once.
 */
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../../src/services/throttle.js';

function busy(ms: number): number {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // spin: the work the throttle paces
  }
  return performance.now() - start;
}

describe('the scrub throttle', () => {
  it('rests four times the work it follows', async () => {
    const throttle = new Throttle({ bytesPerSecond: 0 });
    const worked = busy(20);
    await throttle.rest();
    expect(throttle.restedMs).toBeGreaterThanOrEqual(4 * worked);
    expect(throttle.restedMs).toBeLessThan(4 * worked + 40);
  });

  it('rests in proportion to another share', async () => {
    const throttle = new Throttle({ share: 0.5, bytesPerSecond: 0 });
    const worked = busy(10);
    await throttle.rest();
    expect(throttle.restedMs).toBeGreaterThanOrEqual(worked);
    expect(throttle.restedMs).toBeLessThan(worked + 20);
  });

  it('holds reads to the byte cap', async () => {
    const throttle = new Throttle({ share: 1, bytesPerSecond: 100_000 });
    await throttle.read(5_000);
    // 5,000 bytes at 100,000 a second is 50 ms of reading, however fast they came.
    expect(throttle.restedMs).toBeGreaterThanOrEqual(40);
  });

  it('ends at the next rest once aborted', async () => {
    const controller = new AbortController();
    const throttle = new Throttle({ share: 0.01, bytesPerSecond: 0, signal: controller.signal });
    busy(5);
    const resting = throttle.rest();
    controller.abort();
    await expect(resting).rejects.toThrow();
    await expect(throttle.rest()).rejects.toThrow();
  });
});
