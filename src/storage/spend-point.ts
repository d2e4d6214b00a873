/**
 * Spending a point in a rate-limiter-flexible limiter, or only looking whether one is left:
 * shared by the memory and Redis limiters.
 */
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import {
  chargeShareFirst,
  rateAllowed,
  type RateKind,
  type RateLimits,
  type RateVerdict,
} from '../domain/rates.js';
import type { RateWindows } from '../domain/rate-windows.js';

/**
 * Spends one point of `key` (memory or Redis store): null when allowed, else the milliseconds
 * until the window reopens. Any other error (a store that does not answer) is thrown: the gate
 * fails closed on it.
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

/**
 * What `spendPoint` would answer now, spending nothing: null when a point is left in `key`'s
 * window, else the milliseconds until it reopens.
 */
export async function peekPoint(limiter: RateLimiterAbstract, key: string): Promise<number | null> {
  const window = await limiter.get(key);
  if (!window || window.consumedPoints < limiter.points) return null;
  return Math.max(1, window.msBeforeNext);
}

/**
 * The verdict `consume` would give now, in the same share-first order, spending nothing (the
 * validate-operation dry run, SPEC §4.2): both limiters' `peek`.
 */
export async function peekRate(
  windows: RateWindows<RateLimiterAbstract>,
  kind: RateKind,
  product: string | null,
  limits: RateLimits,
): Promise<RateVerdict> {
  const refusal = await chargeShareFirst(kind, product, limits, (scope, key, perSecond) =>
    peekPoint(windows.limiter(scope, perSecond), key),
  );
  return refusal ?? rateAllowed(kind, limits);
}
