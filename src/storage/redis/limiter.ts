/**
 * The scale-out limiter: global rates, write slots and brute-force counters in Redis, shared by
 * every node (SPEC §2.3, §5 T1, §12). Every Redis error rejects: the gate fails closed on it.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { AuthFailureVerdict, BruteForceRule } from '../../domain/threats.js';
import type { RateKind, RateLimits, RateUsage, RateVerdict } from '../../domain/rates.js';
import type { Limiter, ProductSlots, WriteSlot } from '../ports.js';
import { RedisRates } from './rates.js';
import { ACQUIRE_SLOT, COUNT_SLOTS, RECORD_AUTH_FAILURE, REFRESH_SLOTS } from './scripts.js';

export interface RedisLimiterOptions {
  /** Prefix of every key (default `bucket:`); nodes of one Bucket share it. */
  readonly keyPrefix?: string;
  /**
   * How long a write slot outlives its node: held slots are refreshed every third of it, so the
   * slots of a node that died come back at most this long after.
   */
  readonly slotTtlMs?: number;
}

const DEFAULT_SLOT_TTL_MS = 30_000;

export class RedisLimiter implements Limiter {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly slotTtlMs: number;
  private readonly rates: RedisRates;
  /** Ids of the slots this node holds, refreshed while held, with their product's set if any. */
  private readonly held = new Map<string, string | null>();
  private readonly refreshTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    options: RedisLimiterOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? 'bucket:';
    this.slotTtlMs = options.slotTtlMs ?? DEFAULT_SLOT_TTL_MS;
    this.rates = new RedisRates(redis, this.prefix);
    this.refreshTimer = setInterval(() => void this.refreshSlots(), this.slotTtlMs / 3);
    this.refreshTimer.unref();
  }

  static fromUrl(url: string, options: RedisLimiterOptions = {}): RedisLimiter {
    const redis = new Redis(url, {
      // Fail fast instead of queueing commands while Redis is away: the gate fails closed.
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
    // Commands reject on their own; without a listener ioredis would print every reconnect error.
    redis.on('error', () => undefined);
    return new RedisLimiter(redis, options);
  }

  private get slotsKey(): string {
    return `${this.prefix}slots:write`;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    if (this.redis.status === 'ready') await this.rates.flushAccepted();
    // Slots still held are not released: they expire like those of a node that died.
    this.held.clear();
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }

  /** The set of the slots `product` holds. */
  private productSlotsKey(product: string): string {
    return `${this.slotsKey}:${product}`;
  }

  async tryAcquireWrite(max: number, product?: ProductSlots): Promise<WriteSlot | null> {
    const id = randomUUID();
    const productKey = product ? this.productSlotsKey(product.product) : null;
    const acquired = await ACQUIRE_SLOT.run(
      this.redis,
      productKey === null ? [this.slotsKey] : [this.slotsKey, productKey],
      [max, this.slotTtlMs, id, product?.max ?? 0],
    );
    if (acquired !== 1) return null;
    this.held.set(id, productKey);
    return {
      release: () => {
        if (!this.held.delete(id)) return;
        // A release that does not reach Redis still ends with the slot's expiry.
        this.redis.zrem(this.slotsKey, id).catch(() => undefined);
        if (productKey !== null) this.redis.zrem(productKey, id).catch(() => undefined);
      },
    };
  }

  async writeSlotFree(max: number, product?: ProductSlots): Promise<boolean> {
    const [all, held] = await Promise.all([
      this.writesInFlight(),
      product ? COUNT_SLOTS.run(this.redis, [this.productSlotsKey(product.product)], []) : 0,
    ]);
    return all < max && (!product || Number(held) < product.max);
  }

  async writesInFlight(): Promise<number> {
    return Number(await COUNT_SLOTS.run(this.redis, [this.slotsKey], []));
  }

  consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    return this.rates.consume(kind, product, limits);
  }

  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    return this.rates.peek(kind, product, limits);
  }

  rateUsage(): Promise<RateUsage> {
    return this.rates.usage();
  }

  async recordAuthFailure(address: string, rule: BruteForceRule): Promise<AuthFailureVerdict> {
    const key = `${this.prefix}auth:${address}`;
    const [blockedForMs, tripped] = (await RECORD_AUTH_FAILURE.run(
      this.redis,
      [`${key}:failures`, `${key}:blocked`],
      [rule.failures, rule.windowMs, rule.cooldownMs, randomUUID()],
    )) as [number, number];
    return { blockedForMs, tripped: tripped === 1 };
  }

  private async refreshSlots(): Promise<void> {
    if (this.held.size === 0) return;
    const bySet = new Map<string, string[]>([[this.slotsKey, [...this.held.keys()]]]);
    for (const [id, productKey] of this.held) {
      if (productKey !== null) bySet.set(productKey, [...(bySet.get(productKey) ?? []), id]);
    }
    // A failed refresh is retried on the next tick; the slot's ttl leaves two more of them.
    await Promise.all(
      [...bySet].map(([key, ids]) =>
        REFRESH_SLOTS.run(this.redis, [key], [this.slotTtlMs, ...ids]).catch(() => undefined),
      ),
    );
  }
}
