/** Rate limits of artifact traffic (SPEC §2.3): which requests count, and what a verdict says. */
import { ruleOf } from './policy.js';

/** Artifact writes (PUT, DELETE, restore) or artifact reads (GET, HEAD, listings, versions). */
export type RateKind = 'write' | 'read';

/** The rates one request is charged against, as the live policy states them. */
export interface RateLimits {
  /** The global limit for this kind, per second, across the whole Bucket. */
  readonly perSecond: number;
  /** The product's share, per second, when the policy configures one. */
  readonly productPerSecond: number | null;
}

export interface RateVerdict {
  readonly kind: RateKind;
  readonly allowed: boolean;
  /** Until the refused request could succeed; 0 when allowed. */
  readonly retryAfterMs: number;
  /** Which limit refused it: the global one or the product's share. */
  readonly scope: 'global' | 'product' | null;
  /** The limit that refused it (per second); the global limit when allowed. */
  readonly limit: number;
}

/** Live usage of one rate: requests accepted over the last second. */
export interface RateUsage {
  readonly write: number;
  readonly read: number;
}

/** `Retry-After` in whole seconds, never below 1 (RFC 9110 §10.2.3). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** The rates the live policy sets for a request of `kind` on `product` (its share, if any). */
export function rateLimitsOf(
  document: {
    readonly limits: { readonly writesPerSecond: number; readonly readsPerSecond: number };
    readonly products: Readonly<
      Record<string, { readonly writesPerSecond?: number; readonly readsPerSecond?: number }>
    >;
  },
  kind: RateKind,
  product: string,
): RateLimits {
  const rule = ruleOf(document.products, product);
  return kind === 'write'
    ? {
        perSecond: document.limits.writesPerSecond,
        productPerSecond: rule?.writesPerSecond ?? null,
      }
    : { perSecond: document.limits.readsPerSecond, productPerSecond: rule?.readsPerSecond ?? null };
}

/**
 * Charges a request to its product's share (when it has one), then to the global rate — a request
 * its share refuses does not spend the global rate (SPEC §2.3). `charge` spends one point of a
 * window (or, for a dry run's peek, only looks whether one is left) and answers the milliseconds
 * until it reopens when it refuses, or null when it allows.
 * Answers the refusal, or null when both allowed; adapters (memory, Redis) differ only in `charge`.
 */
export async function chargeShareFirst(
  kind: RateKind,
  product: string | null,
  limits: RateLimits,
  charge: (window: string, key: string, perSecond: number) => Promise<number | null>,
): Promise<RateVerdict | null> {
  if (product !== null && limits.productPerSecond !== null) {
    const refused = await charge(`${kind}:product`, product, limits.productPerSecond);
    if (refused !== null) {
      return {
        kind,
        allowed: false,
        retryAfterMs: refused,
        scope: 'product',
        limit: limits.productPerSecond,
      };
    }
  }
  const refused = await charge(`${kind}:global`, 'all', limits.perSecond);
  if (refused === null) return null;
  return { kind, allowed: false, retryAfterMs: refused, scope: 'global', limit: limits.perSecond };
}

/** The verdict of a request both its share and the global rate allowed. */
export function rateAllowed(kind: RateKind, limits: RateLimits): RateVerdict {
  return { kind, allowed: true, retryAfterMs: 0, scope: null, limit: limits.perSecond };
}
