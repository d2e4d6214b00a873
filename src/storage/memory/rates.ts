/**
 * Artifact rates of one process through rate-limiter-flexible's memory store (SPEC §2.3). The
 * Redis store of the scale-out issue replaces `RateLimiterMemory` with `RateLimiterRedis`, with the
 * same windows, so the limit holds across nodes.
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
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

/** Granularity of the "accepted over the last second" reading. */
const USAGE_SLOT_MS = 100;

/** Requests accepted in slots of USAGE_SLOT_MS, over the last second. */
class AcceptedCounter {
  private readonly slots = new Map<number, number>();

  constructor(private readonly now: () => number) {}

  add(): void {
    const slot = Math.floor(this.now() / USAGE_SLOT_MS);
    this.slots.set(slot, (this.slots.get(slot) ?? 0) + 1);
    if (this.slots.size > 20) this.prune(slot);
  }

  lastSecond(): number {
    const slot = Math.floor(this.now() / USAGE_SLOT_MS);
    this.prune(slot);
    let total = 0;
    for (const [at, count] of this.slots) if (at > slot - 1000 / USAGE_SLOT_MS) total += count;
    return total;
  }

  private prune(slot: number): void {
    for (const at of this.slots.keys())
      if (at <= slot - 1000 / USAGE_SLOT_MS) this.slots.delete(at);
  }
}

export class MemoryRates {
  private readonly windows = new RateWindows<RateLimiterMemory>(
    (_scope, _perSecond, { windowMs, points }) =>
      new RateLimiterMemory({ points, duration: windowMs / 1000 }),
  );
  private readonly accepted: Record<RateKind, AcceptedCounter>;

  constructor(now: () => number = Date.now) {
    this.accepted = { write: new AcceptedCounter(now), read: new AcceptedCounter(now) };
  }

  async consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    const refusal = await chargeShareFirst(kind, product, limits, (scope, key, perSecond) =>
      spendPoint(this.windows.limiter(scope, perSecond), key),
    );
    if (refusal) return refusal;
    this.accepted[kind].add();
    return rateAllowed(kind, limits);
  }

  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    return peekRate(this.windows, kind, product, limits);
  }

  async usage(): Promise<RateUsage> {
    return { write: this.accepted.write.lastSecond(), read: this.accepted.read.lastSecond() };
  }
}
