/** Rate limits of artifact traffic (SPEC §2.3): which requests count, and what a verdict says. */

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
  const rule = document.products[product];
  return kind === 'write'
    ? {
        perSecond: document.limits.writesPerSecond,
        productPerSecond: rule?.writesPerSecond ?? null,
      }
    : { perSecond: document.limits.readsPerSecond, productPerSecond: rule?.readsPerSecond ?? null };
}
