/**
 * Artifact rates of one process through rate-limiter-flexible's memory store (SPEC §2.3). The
 * Redis store of the scale-out issue replaces `RateLimiterMemory` with `RateLimiterRedis`, with the
 * same windows, so the limit holds across nodes.
 */
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import {
  chargeShareFirst,
  rateAllowed,
  type RateKind,
  type RateLimits,
  type RateUsage,
  type RateVerdict,
} from '../../domain/rates.js';

/** Points per window at least, so that rounding a rate to whole points stays within 5 %. */
const MIN_POINTS_PER_WINDOW = 10;
/** Windows are never shorter: a shorter window costs a timer per window per key. */
const MIN_WINDOW_MS = 100;
/** Granularity of the "accepted over the last second" reading. */
const USAGE_SLOT_MS = 100;

/**
 * A fixed window admits up to one extra window's worth at a window boundary, so windows are short
 * (≤ 1 s, usually 100–200 ms): over any span of a few seconds the accepted rate stays within a few
 * per cent of the limit, while each window still holds enough points to round accurately.
 */
/**
 * Spends one point of `key` in a rate-limiter-flexible limiter (memory or Redis store): null when
 * allowed, else the milliseconds until the window reopens. Any other error (a store that does not
 * answer) is thrown: the gate fails closed on it.
 */
export async function spendPoint(
  limiter: RateLimiterAbstract,
  key: string,
): Promise<number | null> {
  try {
    await limiter.consume(key, 1);
    return null;
  } catch (error) {
    if (error instanceof RateLimiterRes) return Math.max(1, error.msBeforeNext);
    throw error;
  }
}

export function windowFor(perSecond: number): { windowMs: number; points: number } {
  const windowMs = Math.min(
    1000,
    Math.max(MIN_WINDOW_MS, Math.ceil((MIN_POINTS_PER_WINDOW * 1000) / perSecond)),
  );
  return { windowMs, points: Math.max(1, Math.round((perSecond * windowMs) / 1000)) };
}

/**
 * One limiter per (kind, scope) — the memory or the Redis store's — recreated when the scope's
 * limit changes, and one way to spend a point in it.
 */
export class RateWindows {
  private readonly windows = new Map<
    string,
    { readonly perSecond: number; readonly limiter: RateLimiterAbstract }
  >();

  constructor(
    private readonly create: (
      scope: string,
      perSecond: number,
      window: { windowMs: number; points: number },
    ) => RateLimiterAbstract,
  ) {}

  /** Spends one point; null when allowed, else the milliseconds until the window reopens. */
  charge(scope: string, key: string, perSecond: number): Promise<number | null> {
    let window = this.windows.get(scope);
    if (window?.perSecond !== perSecond) {
      window = { perSecond, limiter: this.create(scope, perSecond, windowFor(perSecond)) };
      this.windows.set(scope, window);
    }
    return spendPoint(window.limiter, key);
  }
}

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
  private readonly windows = new RateWindows(
    (_scope, _perSecond, { windowMs, points }) =>
      new RateLimiterMemory({ points, duration: windowMs / 1000 }),
  );
  private readonly accepted: Record<RateKind, AcceptedCounter>;

  constructor(now: () => number = Date.now) {
    this.accepted = { write: new AcceptedCounter(now), read: new AcceptedCounter(now) };
  }

  async consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict> {
    const refusal = await chargeShareFirst(kind, product, limits, (scope, key, perSecond) =>
      this.windows.charge(scope, key, perSecond),
    );
    if (refusal) return refusal;
    this.accepted[kind].add();
    return rateAllowed(kind, limits);
  }

  async usage(): Promise<RateUsage> {
    return { write: this.accepted.write.lastSecond(), read: this.accepted.read.lastSecond() };
  }
}
