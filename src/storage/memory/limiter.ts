/** The in-process limiter of the embedded default: write slots counted in this process. */
import type { AuthFailureVerdict, BruteForceRule } from '../../domain/threats.js';
import type { RateKind, RateLimits, RateUsage, RateVerdict } from '../../domain/rates.js';
import type { Limiter, ProductSlots, WriteSlot } from '../ports.js';
import { MemoryRates } from './rates.js';

/** Addresses tracked at most; the oldest are forgotten first, so a flood cannot exhaust memory. */
const MAX_ADDRESSES = 100_000;

interface AddressFailures {
  /** Times of the recent failures, oldest first, at most `rule.failures` of them. */
  times: number[];
  blockedUntil: number;
}

export class MemoryLimiter implements Limiter {
  readonly kind = 'memory';
  private inFlight = 0;
  /** Slots held per product (a product holding none has no entry). */
  private readonly byProduct = new Map<string, number>();
  private readonly failures = new Map<string, AddressFailures>();
  private readonly rates: MemoryRates;

  constructor(private readonly now: () => number = Date.now) {
    this.rates = new MemoryRates(now);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  async tryAcquireWrite(max: number, product?: ProductSlots): Promise<WriteSlot | null> {
    if (this.inFlight >= max) return null;
    const held = product ? (this.byProduct.get(product.product) ?? 0) : 0;
    if (product && held >= product.max) return null;
    this.inFlight++;
    if (product) this.byProduct.set(product.product, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        if (!product) return;
        const left = (this.byProduct.get(product.product) ?? 1) - 1;
        if (left > 0) this.byProduct.set(product.product, left);
        else this.byProduct.delete(product.product);
      },
    };
  }

  async writeSlotFree(max: number, product?: ProductSlots): Promise<boolean> {
    if (this.inFlight >= max) return false;
    return !product || (this.byProduct.get(product.product) ?? 0) < product.max;
  }

  async writesInFlight(): Promise<number> {
    return this.inFlight;
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
    const now = this.now();
    let entry = this.failures.get(address);
    if (entry) {
      this.failures.delete(address); // re-inserted below: the map stays in recency order
    } else {
      entry = { times: [], blockedUntil: 0 };
      if (this.failures.size >= MAX_ADDRESSES) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
    }
    this.failures.set(address, entry);
    if (entry.blockedUntil > now) return { blockedForMs: entry.blockedUntil - now, tripped: false };
    entry.times = entry.times.filter((time) => time > now - rule.windowMs);
    entry.times.push(now);
    if (entry.times.length < rule.failures) return { blockedForMs: 0, tripped: false };
    entry.times = [];
    entry.blockedUntil = now + rule.cooldownMs;
    return { blockedForMs: rule.cooldownMs, tripped: true };
  }
}
