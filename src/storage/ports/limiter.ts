/** The Limiter port: write slots, rates and brute-force counters, shared by nodes. */
import type { RateKind, RateLimits, RateUsage, RateVerdict } from '../../domain/rates.js';
import type { AuthFailureVerdict, BruteForceRule } from '../../domain/threats.js';

/** A held write slot; `release` is idempotent. */
export interface WriteSlot {
  release(): void;
}

/** A product's cap on the write slots it holds at once. */
export interface ProductSlots {
  readonly product: string;
  readonly max: number;
}

export interface Limiter {
  readonly kind: string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * A write slot, or null when `max` writes are already in flight — or, given a product, when
   * that product already holds its `product.max` of them (SPEC §2.3 `productWriteShare`).
   */
  tryAcquireWrite(max: number, product?: ProductSlots): Promise<WriteSlot | null>;
  /** Whether `tryAcquireWrite(max, product)` would succeed now; holds nothing (a dry run). */
  writeSlotFree(max: number, product?: ProductSlots): Promise<boolean>;
  writesInFlight(): Promise<number>;
  /**
   * Charges one artifact request to the rate of its kind (and to its product's share, if any);
   * limits that differ from the previous call take effect at once (SPEC §2.3).
   */
  consume(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict>;
  /** The verdict `consume` would give now, spending nothing and counting nothing (a dry run). */
  peek(kind: RateKind, product: string | null, limits: RateLimits): Promise<RateVerdict>;
  /** Requests of each kind accepted over the last second. */
  rateUsage(): Promise<RateUsage>;
  /**
   * Counts a failed authentication (unknown, revoked or expired key) from `address` and says
   * whether that address is now blocked for failing keys (SPEC §5 T1 brute force).
   */
  recordAuthFailure(address: string, rule: BruteForceRule): Promise<AuthFailureVerdict>;
}
