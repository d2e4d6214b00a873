/**
 * The schedule of the sweeps (services/periodic.ts): a first run soon after the start, so that a
 * node restarted more often than the interval still runs it, then one every interval; stopped, it
 * runs no more.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPeriodic } from '../../../src/services/periodic.js';

describe('startPeriodic', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs first after the short delay, then every interval, until stopped', () => {
    const tick = vi.fn();
    const schedule = startPeriodic(tick, { firstMs: 60_000, everyMs: 3_600_000 });
    vi.advanceTimersByTime(59_999);
    expect(tick).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(3_600_000);
    expect(tick).toHaveBeenCalledTimes(2);
    schedule.stop();
    vi.advanceTimersByTime(10 * 3_600_000);
    expect(tick).toHaveBeenCalledTimes(2);
  });

  it('never waits longer for the first run than for the others', () => {
    const tick = vi.fn();
    const schedule = startPeriodic(tick, { firstMs: 60_000, everyMs: 1_000 });
    vi.advanceTimersByTime(1_000);
    expect(tick).toHaveBeenCalledTimes(1);
    schedule.stop();
  });

  it('can be stopped before its first run', () => {
    const tick = vi.fn();
    startPeriodic(tick, { firstMs: 10, everyMs: 100 }).stop();
    vi.advanceTimersByTime(1_000);
    expect(tick).not.toHaveBeenCalled();
  });
});
