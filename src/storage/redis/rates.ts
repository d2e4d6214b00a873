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
import { RateWindows } from '../memory/rates.js';
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

export class RedisRates {
  // The limit is part of the key: every node on the same limit shares one counter, and a
  // changed limit starts a fresh one at once, as the memory limiter does.
  private readonly windows = new RateWindows(
    (scope, perSecond, { windowMs, points }) =>
      new MillisecondWindowLimiter(this.redis, {
        keyPrefix: `${this.keyPrefix}rate:${scope}:${perSecond}`,
        points,
        windowMs,
      }),
  );

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    const refusal = await chargeShareFirst(kind, product, limits, (scope, key, perSecond) =>
      this.windows.charge(scope, key, perSecond),
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
}
