/** The memory limiter's artifact rates (SPEC §2.3): windows, shares, Retry-After, live changes. */
import { describe, expect, it } from 'vitest';
import { retryAfterSeconds, rateLimitsOf } from '../../../src/domain/rates.js';
import { bandOf, reading } from '../../../src/domain/scale.js';
import { MemoryLimiter } from '../../../src/storage/memory/limiter.js';
import { timed } from '../../helpers/load.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function burst(limiter: MemoryLimiter, count: number, perSecond: number, product = 'p') {
  const verdicts = [];
  for (let i = 0; i < count; i++) {
    verdicts.push(await limiter.consume('write', product, { perSecond, productPerSecond: null }));
  }
  return verdicts;
}

describe('memory limiter rates', () => {
  it('admits one window of points, then refuses with the time until the window reopens', async () => {
    const limiter = new MemoryLimiter();
    const verdicts = await burst(limiter, 15, 50);
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    const refused = verdicts.find((v) => !v.allowed);
    expect(refused).toMatchObject({ kind: 'write', scope: 'global', limit: 50 });
    expect(refused!.retryAfterMs).toBeGreaterThan(0);
    expect(refused!.retryAfterMs).toBeLessThanOrEqual(200);
    expect(retryAfterSeconds(refused!.retryAfterMs)).toBe(1);
    expect((await limiter.rateUsage()).write).toBe(10);
    expect((await limiter.rateUsage()).read).toBe(0);
  });

  // The refusal itself is tested above; the accepted rate against the clock is npm run test:timed's.
  timed('keeps the accepted rate of a sustained 3× burst within 15 % of the limit', async () => {
    const limiter = new MemoryLimiter();
    const started = Date.now();
    let accepted = 0;
    while (Date.now() - started < 1500) {
      for (let i = 0; i < 3; i++) {
        const verdict = await limiter.consume('read', 'p', {
          perSecond: 200,
          productPerSecond: null,
        });
        if (verdict.allowed) accepted++;
      }
      await sleep(5);
    }
    const rate = accepted / ((Date.now() - started) / 1000);
    expect(rate).toBeGreaterThan(200 * 0.85);
    expect(rate).toBeLessThan(200 * 1.15);
  });

  it("refuses past a product's share without spending the global rate", async () => {
    const limiter = new MemoryLimiter();
    // 20/s: windows of 500 ms holding 10 points; the share of 5/s: 1 s windows of 5 points.
    const shared = { perSecond: 20, productPerSecond: 5 };
    const mine = [];
    for (let i = 0; i < 20; i++) mine.push(await limiter.consume('write', 'a', shared));
    expect(mine.filter((v) => v.allowed)).toHaveLength(5);
    expect(mine.at(-1)).toMatchObject({ allowed: false, scope: 'product', limit: 5 });
    // Another product has the global window less the 5 writes the first one was granted.
    const other = [];
    for (let i = 0; i < 20; i++) {
      other.push(await limiter.consume('write', 'b', { perSecond: 20, productPerSecond: null }));
    }
    expect(other.filter((v) => v.allowed)).toHaveLength(5);
    expect(other.at(-1)).toMatchObject({ allowed: false, scope: 'global', limit: 20 });
  });

  it('applies a changed limit on the next call', async () => {
    const limiter = new MemoryLimiter();
    expect((await burst(limiter, 12, 50)).filter((v) => v.allowed)).toHaveLength(10);
    expect((await burst(limiter, 30, 100)).filter((v) => v.allowed)).toHaveLength(10);
  });

  it('reads per-product shares from the policy document', () => {
    const document = {
      limits: { writesPerSecond: 1000, readsPerSecond: 10_000 },
      products: { a: { writesPerSecond: 5 }, b: {} },
    };
    expect(rateLimitsOf(document, 'write', 'a')).toEqual({ perSecond: 1000, productPerSecond: 5 });
    expect(rateLimitsOf(document, 'read', 'a')).toEqual({
      perSecond: 10_000,
      productPerSecond: null,
    });
    expect(rateLimitsOf(document, 'write', 'zz')).toEqual({
      perSecond: 1000,
      productPerSecond: null,
    });
  });
});

describe('scale bands (SPEC §2.3)', () => {
  it('bands GREEN < 50 ≤ YELLOW < 75 ≤ ORANGE < 100 ≤ RED', () => {
    expect(bandOf(0)).toBe('GREEN');
    expect(bandOf(0.4999)).toBe('GREEN');
    expect(bandOf(0.5)).toBe('YELLOW');
    expect(bandOf(0.7499)).toBe('YELLOW');
    expect(bandOf(0.75)).toBe('ORANGE');
    expect(bandOf(0.99)).toBe('ORANGE');
    expect(bandOf(1)).toBe('RED');
    expect(reading('concurrent_writes', 49, 100).status).toBe('GREEN');
    expect(reading('concurrent_writes', 50, 100).status).toBe('YELLOW');
    expect(reading('concurrent_writes', 75, 100).status).toBe('ORANGE');
    expect(reading('concurrent_writes', 100, 100)).toEqual({
      name: 'concurrent_writes',
      limit: 100,
      current: 100,
      ratio: 1,
      status: 'RED',
    });
  });
});
