/**
 * Artifact rates shared by every node through rate-limiter-flexible's Redis store (SPEC §2.3):
 * the memory limiter's windows and share-first order, with the counters in Redis, so the global
 * limit holds for all nodes together.
 */
import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import {
  chargeShareFirst,
  rateAllowed,
  type RateKind,
  type RateLimits,
  type RateUsage,
  type RateVerdict,
} from '../../domain/rates.js';
import { spendPoint, windowFor } from '../memory/rates.js';
import { ACCEPTED_LAST_SECOND, COUNT_ACCEPTED, INCREMENT_WINDOW } from './scripts.js';

/**
 * The Redis store sets its expiries in whole seconds, so a window under one second would never
 * expire; this one keeps the store and its verdicts and sets the expiry in milliseconds.
 */
class MillisecondWindowLimiter extends RateLimiterRedis {
  private readonly redis: Redis;

  constructor(redis: Redis, options: { keyPrefix: string; points: number; windowMs: number }) {
    super({
      storeClient: redis,
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.windowMs / 1000,
    });
    this.redis = redis;
  }

  /** Replaces the store's upsert (rate-limiter-flexible's extension point for its stores). */
  _upsert(
    rlKey: string,
    points: number,
    msDuration: number,
    forceExpire = false,
  ): Promise<unknown> {
    if (forceExpire) return Promise.reject(new Error('blocking is not used by the Bucket'));
    return INCREMENT_WINDOW.run(this.redis, [rlKey], [points, Math.round(msDuration)]);
  }
}

interface Window {
  readonly perSecond: number;
  readonly limiter: MillisecondWindowLimiter;
}

export class RedisRates {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    const refusal = await chargeShareFirst(kind, product, limits, (window, key, perSecond) =>
      this.charge(window, key, perSecond),
    );
    if (refusal) return refusal;
    await COUNT_ACCEPTED.run(this.redis, [this.acceptedPrefix(kind)], []);
    return rateAllowed(kind, limits);
  }

  /** Requests accepted over the last second by every node. */
  async usage(): Promise<RateUsage> {
    const totals = (await ACCEPTED_LAST_SECOND.run(
      this.redis,
      [this.acceptedPrefix('write'), this.acceptedPrefix('read')],
      [],
    )) as [number, number];
    return { write: totals[0], read: totals[1] };
  }

  private acceptedPrefix(kind: RateKind): string {
    return `${this.keyPrefix}accepted:${kind}:`;
  }

  /** Spends one point; null when allowed, else the milliseconds until the window reopens. */
  private charge(scope: string, key: string, perSecond: number): Promise<number | null> {
    return spendPoint(this.window(scope, perSecond).limiter, key);
  }

  private window(scope: string, perSecond: number): Window {
    const existing = this.windows.get(scope);
    if (existing && existing.perSecond === perSecond) return existing;
    const { windowMs, points } = windowFor(perSecond);
    // The limit is part of the key: every node on the same limit shares one counter, and a
    // changed limit starts a fresh one at once, as the memory limiter does.
    const limiter = new MillisecondWindowLimiter(this.redis, {
      keyPrefix: `${this.keyPrefix}rate:${scope}:${perSecond}`,
      points,
      windowMs,
    });
    const created = { perSecond, limiter };
    this.windows.set(scope, created);
    return created;
  }
}
