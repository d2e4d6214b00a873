/** The artifact rates' windows (SPEC §2.3): their sizes, and a changed limit taking effect. */
import { describe, expect, it } from 'vitest';
import { RateWindows, windowFor } from '../../../src/domain/rate-windows.js';

describe('rate windows', () => {
  it('sizes windows so each holds whole points and rounds within 5 %', () => {
    expect(windowFor(50)).toEqual({ windowMs: 200, points: 10 });
    expect(windowFor(1000)).toEqual({ windowMs: 100, points: 100 });
    expect(windowFor(10_000)).toEqual({ windowMs: 100, points: 1000 });
    expect(windowFor(1)).toEqual({ windowMs: 1000, points: 1 });
    for (const perSecond of [1, 3, 7, 15, 33, 50, 77, 99, 101, 999, 1000, 12_345]) {
      const { windowMs, points } = windowFor(perSecond);
      const effective = (points * 1000) / windowMs;
      expect(Math.abs(effective - perSecond) / perSecond).toBeLessThanOrEqual(0.05);
    }
  });

  it('keeps one limiter per scope until its limit changes, then makes a new one', () => {
    const made: string[] = [];
    const windows = new RateWindows((scope, perSecond, window) => {
      made.push(`${scope}@${perSecond}/${window.windowMs}ms`);
      return { scope, perSecond };
    });
    const first = windows.limiter('write:global', 50);
    expect(windows.limiter('write:global', 50)).toBe(first);
    expect(windows.limiter('read:global', 50)).not.toBe(first);
    const changed = windows.limiter('write:global', 1000);
    expect(changed).toEqual({ scope: 'write:global', perSecond: 1000 });
    expect(made).toEqual([
      'write:global@50/200ms',
      'read:global@50/200ms',
      'write:global@1000/100ms',
    ]);
  });
});
