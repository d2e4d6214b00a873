import { describe, expect, it } from 'vitest';
import { BRUTE_FORCE } from '../../../src/domain/threats.js';
import { MemoryLimiter } from '../../../src/storage/memory/limiter.js';

describe('MemoryLimiter brute-force counting (SPEC §5 T1)', () => {
  const rule = BRUTE_FORCE;

  it('trips on the 20th failure within 60 s and then blocks that address for the cooldown', async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    for (let i = 1; i < rule.failures; i++) {
      expect(await limiter.recordAuthFailure('10.0.0.1', rule)).toEqual({
        blockedForMs: 0,
        tripped: false,
      });
      now += 100;
    }
    expect(await limiter.recordAuthFailure('10.0.0.1', rule)).toEqual({
      blockedForMs: rule.cooldownMs,
      tripped: true,
    });
    now += 10_000;
    expect(await limiter.recordAuthFailure('10.0.0.1', rule)).toEqual({
      blockedForMs: rule.cooldownMs - 10_000,
      tripped: false,
    });
    // Another address is not affected.
    expect(await limiter.recordAuthFailure('10.0.0.2', rule)).toEqual({
      blockedForMs: 0,
      tripped: false,
    });
    // After the cooldown the address starts counting afresh.
    now += rule.cooldownMs;
    expect((await limiter.recordAuthFailure('10.0.0.1', rule)).blockedForMs).toBe(0);
  });

  it('forgets failures older than the window', async () => {
    let now = 0;
    const limiter = new MemoryLimiter(() => now);
    for (let i = 0; i < rule.failures - 1; i++) await limiter.recordAuthFailure('a', rule);
    now += rule.windowMs + 1;
    for (let i = 0; i < rule.failures - 1; i++) {
      expect((await limiter.recordAuthFailure('a', rule)).tripped).toBe(false);
    }
    expect((await limiter.recordAuthFailure('a', rule)).tripped).toBe(true);
  });
});
