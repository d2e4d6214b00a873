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
import { RateWindows } from '../../domain/rate-windows.js';
import { peekRate, spendPoint } from '../spend-point.js';
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

/**
 * How long accepted requests are counted on the node before they are added to Redis in one call
 * (instead of one call per request). The rate usage of other nodes lags by as much.
 */
const ACCEPTED_FLUSH_MS = 50;

export class RedisRates {
  /** Accepted requests not yet added to Redis. */
  private accepted = { write: 0, read: 0 };
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  // The limit is part of the key: every node on the same limit shares one counter, and a
  // changed limit starts a fresh one at once, as the memory limiter does.
  private readonly windows = new RateWindows<MillisecondWindowLimiter>(
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
      spendPoint(this.windows.limiter(scope, perSecond), key),
    );
    if (refusal) return refusal;
    this.accepted[kind] += 1;
    this.flushTimer ??= setTimeout(() => void this.flushAccepted(), ACCEPTED_FLUSH_MS).unref();
    return rateAllowed(kind, limits);
  }

  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    return peekRate(this.windows, kind, product, limits);
  }

  /**
   * Requests accepted over the last second by every node: those in Redis, and this node's not
   * added yet (another node's arrive within ACCEPTED_FLUSH_MS).
   */
  async usage(): Promise<RateUsage> {
    // A flush in flight has taken this node's counts out of `accepted` and may not have reached
    // Redis yet (its script can be retried after ours when Redis lacks it): wait for it to land.
    await this.flushing;
    const totals = (await ACCEPTED_LAST_SECOND.run(
      this.redis,
      [this.acceptedPrefix('write'), this.acceptedPrefix('read')],
      [],
    )) as [number, number];
    return { write: totals[0] + this.accepted.write, read: totals[1] + this.accepted.read };
  }

  /** Adds this node's accepted requests to Redis now (on close, so that none are left behind). */
  async flushAccepted(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    await this.flushing;
    const { write, read } = this.accepted;
    if (write + read === 0) return;
    this.accepted = { write: 0, read: 0 };
    this.flushing = COUNT_ACCEPTED.run(
      this.redis,
      [this.acceptedPrefix('write'), this.acceptedPrefix('read')],
      [write, read],
    ).then(
      () => undefined,
      // A usage figure, not a limit: counts Redis did not take only make it read low a moment.
      () => undefined,
    );
    await this.flushing;
  }

  private acceptedPrefix(kind: RateKind): string {
    return `${this.keyPrefix}accepted:${kind}:`;
  }
}
