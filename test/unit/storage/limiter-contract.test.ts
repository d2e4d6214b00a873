/**
 * The Limiter port's contract, held by the in-process limiter and the Redis limiter (real Redis,
 * a key prefix of its own per limiter), and what only the shared one promises: one global rate,
 * one slot cap and slots that outlive a crashed node only until their expiry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BruteForceRule } from '../../../src/domain/threats.js';
import type { RateKind, RateLimits } from '../../../src/domain/rates.js';
import { MemoryLimiter } from '../../../src/storage/memory/limiter.js';
import type { Limiter } from '../../../src/storage/ports.js';
import { RedisLimiter, type RedisLimiterOptions } from '../../../src/storage/redis/limiter.js';
import { eventually } from '../../helpers/durability.js';
import { paced, timed } from '../../helpers/load.js';
import { REDIS_URL, serviceAvailable, testRedisPrefix } from '../../helpers/services.js';

const redisUp = await serviceAvailable('redis');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const opened: Limiter[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((limiter) => limiter.close().catch(() => undefined)));
});

function redisLimiter(options: RedisLimiterOptions = {}): RedisLimiter {
  const limiter = RedisLimiter.fromUrl(REDIS_URL, { keyPrefix: testRedisPrefix(), ...options });
  opened.push(limiter);
  return limiter;
}

/**
 * Offers `perSecond × 3` requests a second for `ms` across `limiters` (round robin); the accepted
 * rate per second.
 */
async function burst(
  limiters: readonly Limiter[],
  kind: RateKind,
  limits: RateLimits,
  ms: number,
): Promise<number> {
  const { answers, seconds } = await paced(limits.perSecond * 3, ms, (i) =>
    limiters[i % limiters.length]!.consume(kind, 'p', limits),
  );
  return answers.filter((verdict) => verdict.allowed).length / seconds;
}

describe.each([
  { name: 'MemoryLimiter', create: (): Limiter => new MemoryLimiter(), skip: false },
  { name: 'RedisLimiter', create: (): Limiter => redisLimiter(), skip: !redisUp },
])('Limiter contract: $name', ({ create, skip }) => {
  it.skipIf(skip)('caps write slots and gives a released slot back, once', async () => {
    const limiter = create();
    const slots = [];
    for (let i = 0; i < 3; i++) slots.push(await limiter.tryAcquireWrite(3));
    expect(slots.every((slot) => slot !== null)).toBe(true);
    expect(await limiter.tryAcquireWrite(3)).toBeNull();
    expect(await limiter.writesInFlight()).toBe(3);
    slots[0]!.release();
    slots[0]!.release(); // idempotent: frees one slot, not two
    expect(await limiter.writesInFlight()).toBe(2);
    expect(await limiter.tryAcquireWrite(3)).not.toBeNull();
    expect(await limiter.tryAcquireWrite(3)).toBeNull();
    // A lower cap applies at once to the writes already in flight.
    expect(await limiter.tryAcquireWrite(2)).toBeNull();
  });

  it.skipIf(skip)('caps the slots one product holds at its share', async () => {
    const limiter = create();
    const a = { product: 'a', max: 2 };
    const held = [await limiter.tryAcquireWrite(10, a), await limiter.tryAcquireWrite(10, a)];
    expect(held.every((slot) => slot !== null)).toBe(true);
    // Product a holds its share; another product still writes.
    expect(await limiter.tryAcquireWrite(10, a)).toBeNull();
    const b = await limiter.tryAcquireWrite(10, { product: 'b', max: 2 });
    expect(b).not.toBeNull();
    expect(await limiter.writesInFlight()).toBe(3);
    held[0]!.release();
    held[0]!.release(); // idempotent for the product's count as well
    expect(await limiter.tryAcquireWrite(10, a)).not.toBeNull();
    expect(await limiter.tryAcquireWrite(10, a)).toBeNull();
    // The Bucket's cap holds over every share.
    expect(await limiter.tryAcquireWrite(3, { product: 'c', max: 2 })).toBeNull();
  });

  it.skipIf(skip)('tells whether a write slot is free, holding none', async () => {
    const limiter = create();
    const a = { product: 'a', max: 1 };
    expect(await limiter.writeSlotFree(2, a)).toBe(true);
    expect(await limiter.writeSlotFree(2, a)).toBe(true);
    expect(await limiter.writesInFlight()).toBe(0);
    const held = await limiter.tryAcquireWrite(2, a);
    expect(held).not.toBeNull();
    // Product a holds its share; the Bucket has room for b.
    expect(await limiter.writeSlotFree(2, a)).toBe(false);
    expect(await limiter.writeSlotFree(2, { product: 'b', max: 1 })).toBe(true);
    expect(await limiter.writeSlotFree(1)).toBe(false);
    held!.release();
    expect(await limiter.writeSlotFree(2, a)).toBe(true);
  });

  it.skipIf(skip)('peeks at the verdict a charge would get, spending nothing', async () => {
    const limiter = create();
    // 5/s: one window of 1 s holding 5 points; the product's share of 2/s: 2 points.
    const limits = { perSecond: 5, productPerSecond: 2 };
    for (let i = 0; i < 10; i++) {
      expect(await limiter.peek('write', 'a', limits)).toMatchObject({ allowed: true });
    }
    expect(await limiter.rateUsage()).toEqual({ write: 0, read: 0 });
    expect(await limiter.consume('write', 'a', limits)).toMatchObject({ allowed: true });
    expect(await limiter.consume('write', 'a', limits)).toMatchObject({ allowed: true });
    const peeked = await limiter.peek('write', 'a', limits);
    expect(peeked).toMatchObject({ allowed: false, scope: 'product', limit: 2 });
    expect(peeked.retryAfterMs).toBeGreaterThan(0);
    expect(peeked.retryAfterMs).toBeLessThanOrEqual(1000);
    // The global rate still has room for another product, and reads are a rate of their own.
    expect(await limiter.peek('write', 'b', limits)).toMatchObject({ allowed: true });
    expect(await limiter.peek('read', 'a', limits)).toMatchObject({ allowed: true });
  });

  it.skipIf(skip)('admits one window of points, then refuses until it reopens', async () => {
    const limiter = create();
    const verdicts = [];
    for (let i = 0; i < 15; i++) {
      verdicts.push(await limiter.consume('write', 'p', { perSecond: 50, productPerSecond: null }));
    }
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(10);
    const refused = verdicts.find((verdict) => !verdict.allowed);
    expect(refused).toMatchObject({ kind: 'write', scope: 'global', limit: 50 });
    expect(refused!.retryAfterMs).toBeGreaterThan(0);
    expect(refused!.retryAfterMs).toBeLessThanOrEqual(200);
    expect(await limiter.rateUsage()).toEqual({ write: 10, read: 0 });
  });

  timed('keeps the accepted rate of a 3× burst within 15 % of the limit', async () => {
    if (skip) return;
    const limiter = create();
    const rate = await burst([limiter], 'write', { perSecond: 50, productPerSecond: null }, 3000);
    expect(rate).toBeGreaterThan(50 * 0.85);
    expect(rate).toBeLessThan(50 * 1.15);
    const usage = await limiter.rateUsage();
    expect(usage.write).toBeGreaterThan(0);
    expect(usage.write).toBeLessThanOrEqual(60);
  });

  it.skipIf(skip)("refuses past a product's share without spending the global rate", async () => {
    const limiter = create();
    // 20/s: windows of 500 ms holding 10 points; the share of 5/s: 1 s windows of 5 points.
    const shared = { perSecond: 20, productPerSecond: 5 };
    const mine = [];
    for (let i = 0; i < 20; i++) mine.push(await limiter.consume('write', 'a', shared));
    expect(mine.filter((verdict) => verdict.allowed)).toHaveLength(5);
    expect(mine.at(-1)).toMatchObject({ allowed: false, scope: 'product', limit: 5 });
    const other = [];
    for (let i = 0; i < 20; i++) {
      other.push(await limiter.consume('write', 'b', { perSecond: 20, productPerSecond: null }));
    }
    expect(other.filter((verdict) => verdict.allowed)).toHaveLength(5);
    expect(other.at(-1)).toMatchObject({ allowed: false, scope: 'global', limit: 20 });
    // Reads are a rate of their own.
    expect(await limiter.consume('read', 'a', shared)).toMatchObject({ allowed: true });
  });

  it.skipIf(skip)('applies a changed limit on the next call', async () => {
    const limiter = create();
    const count = async (n: number, perSecond: number) => {
      let allowed = 0;
      for (let i = 0; i < n; i++) {
        const verdict = await limiter.consume('write', 'p', { perSecond, productPerSecond: null });
        if (verdict.allowed) allowed++;
      }
      return allowed;
    };
    // Limits whose windows last a whole second (5 and 10 points): the calls of each count fall in
    // one window even when the store answers slowly.
    expect(await count(8, 5)).toBe(5);
    expect(await count(15, 10)).toBe(10);
  });

  it.skipIf(skip)('blocks an address after repeated failures, for the cooldown only', async () => {
    const limiter = create();
    const rule: BruteForceRule = { failures: 5, windowMs: 5000, cooldownMs: 600 };
    for (let i = 1; i < rule.failures; i++) {
      expect(await limiter.recordAuthFailure('10.0.0.1', rule)).toEqual({
        blockedForMs: 0,
        tripped: false,
      });
    }
    expect(await limiter.recordAuthFailure('10.0.0.1', rule)).toEqual({
      blockedForMs: rule.cooldownMs,
      tripped: true,
    });
    const blocked = await limiter.recordAuthFailure('10.0.0.1', rule);
    expect(blocked.tripped).toBe(false);
    expect(blocked.blockedForMs).toBeGreaterThan(0);
    expect(blocked.blockedForMs).toBeLessThanOrEqual(rule.cooldownMs);
    expect(await limiter.recordAuthFailure('10.0.0.2', rule)).toEqual({
      blockedForMs: 0,
      tripped: false,
    });
    await sleep(rule.cooldownMs + 50);
    // After the cooldown the address counts afresh.
    expect(await limiter.recordAuthFailure('10.0.0.1', rule)).toEqual({
      blockedForMs: 0,
      tripped: false,
    });
  });

  it.skipIf(skip)('forgets failures older than the window', async () => {
    const limiter = create();
    const rule: BruteForceRule = { failures: 5, windowMs: 300, cooldownMs: 1000 };
    for (let i = 1; i < rule.failures; i++) await limiter.recordAuthFailure('a', rule);
    await sleep(rule.windowMs + 50);
    for (let i = 1; i < rule.failures; i++) {
      expect((await limiter.recordAuthFailure('a', rule)).tripped).toBe(false);
    }
    expect((await limiter.recordAuthFailure('a', rule)).tripped).toBe(true);
  });
});

describe.skipIf(!redisUp)('RedisLimiter across nodes', () => {
  it('refuses on one node a window the other node used up', async () => {
    const keyPrefix = testRedisPrefix();
    const [a, b] = [redisLimiter({ keyPrefix }), redisLimiter({ keyPrefix })];
    // 5/s: one-second windows of 5 points. Node a spends a window until refused; while that
    // window has long to run, node b is refused too, and either node reads the usage of both.
    const limits = { perSecond: 5, productPerSecond: null };
    for (let attempt = 0; ; attempt++) {
      let refused;
      while (!refused) {
        const verdict = await a.consume('read', 'p', limits);
        if (!verdict.allowed) refused = verdict;
      }
      if (refused.retryAfterMs < 300 && attempt < 5) {
        await sleep(refused.retryAfterMs + 10); // the window is about to reopen: use the next
        continue;
      }
      expect(await b.consume('read', 'p', limits)).toMatchObject({
        allowed: false,
        scope: 'global',
      });
      break;
    }
    const agree = async () => {
      const [usageA, usageB] = await Promise.all([a.rateUsage(), b.rateUsage()]);
      return usageA.read === usageB.read && usageA.read > 0;
    };
    expect(await eventually(agree, 2000)).toBe(true);
  });

  timed('holds one global rate for two nodes together, within 15 %', async () => {
    const keyPrefix = testRedisPrefix();
    const nodes = [redisLimiter({ keyPrefix }), redisLimiter({ keyPrefix })];
    const rate = await burst(nodes, 'read', { perSecond: 50, productPerSecond: null }, 3000);
    expect(rate).toBeGreaterThan(50 * 0.85);
    expect(rate).toBeLessThan(50 * 1.15);
  });

  it('counts accepted requests on the node, and in Redis for every node within a moment', async () => {
    const keyPrefix = testRedisPrefix();
    const [a, b] = [redisLimiter({ keyPrefix }), redisLimiter({ keyPrefix })];
    const limits = { perSecond: 1000, productPerSecond: null };
    for (let i = 0; i < 7; i++)
      expect((await a.consume('write', 'gurukul', limits)).allowed).toBe(true);
    // Node a's own requests count at once, before one call to Redis carries them.
    expect(await a.rateUsage()).toEqual({ write: 7, read: 0 });
    expect(await eventually(async () => (await b.rateUsage()).write === 7, 2000)).toBe(true);
    // A closing node leaves none of its counts behind.
    await b.consume('read', 'gurukul', limits);
    await b.close();
    expect((await a.rateUsage()).read).toBe(1);
  });

  it('shares one slot cap between nodes', async () => {
    const keyPrefix = testRedisPrefix();
    const [a, b] = [redisLimiter({ keyPrefix }), redisLimiter({ keyPrefix })];
    const held = await a.tryAcquireWrite(2);
    expect(await b.tryAcquireWrite(2)).not.toBeNull();
    expect(await a.tryAcquireWrite(2)).toBeNull();
    expect(await b.tryAcquireWrite(2)).toBeNull();
    expect(await b.writesInFlight()).toBe(2);
    held!.release();
    // The release travels on node a's connection: node b sees the slot free once it has landed.
    expect(await eventually(async () => (await b.tryAcquireWrite(2)) !== null, 2000)).toBe(true);
  });

  it('keeps a held slot alive past its ttl, and gives back the slots of a crashed node', async () => {
    const keyPrefix = testRedisPrefix();
    const crashing = RedisLimiter.fromUrl(REDIS_URL, { keyPrefix, slotTtlMs: 400 });
    const survivor = redisLimiter({ keyPrefix, slotTtlMs: 400 });
    expect(await crashing.tryAcquireWrite(2)).not.toBeNull();
    expect(await crashing.tryAcquireWrite(2)).not.toBeNull();
    await sleep(1000); // refreshed while held
    expect(await survivor.tryAcquireWrite(2)).toBeNull();
    expect(await survivor.writesInFlight()).toBe(2);

    await crashing.close(); // without releasing: its slots are left behind
    expect(await survivor.writesInFlight()).toBe(2);
    await sleep(500);
    expect(await survivor.writesInFlight()).toBe(0);
    expect(await survivor.tryAcquireWrite(2)).not.toBeNull();
    expect(await survivor.tryAcquireWrite(2)).not.toBeNull();
  });

  it('shares brute-force counts between nodes', async () => {
    const keyPrefix = testRedisPrefix();
    const nodes = [redisLimiter({ keyPrefix }), redisLimiter({ keyPrefix })];
    const rule: BruteForceRule = { failures: 4, windowMs: 5000, cooldownMs: 5000 };
    const verdicts = [];
    for (let i = 0; i < rule.failures; i++) {
      verdicts.push(await nodes[i % 2]!.recordAuthFailure('192.0.2.7', rule));
    }
    expect(verdicts.map((verdict) => verdict.tripped)).toEqual([false, false, false, true]);
    expect((await nodes[0]!.recordAuthFailure('192.0.2.7', rule)).blockedForMs).toBeGreaterThan(0);
  });

  it('rejects every operation when Redis cannot be reached (the gate fails closed)', async () => {
    const limiter = RedisLimiter.fromUrl('redis://127.0.0.1:1', { keyPrefix: testRedisPrefix() });
    opened.push(limiter);
    const limits = { perSecond: 50, productPerSecond: null };
    await expect(limiter.ping()).rejects.toThrow();
    await expect(limiter.consume('write', 'p', limits)).rejects.toThrow();
    await expect(limiter.tryAcquireWrite(10)).rejects.toThrow();
    await expect(limiter.writesInFlight()).rejects.toThrow();
    await expect(limiter.rateUsage()).rejects.toThrow();
    await expect(
      limiter.recordAuthFailure('a', { failures: 2, windowMs: 1, cooldownMs: 1 }),
    ).rejects.toThrow();
  });
});
