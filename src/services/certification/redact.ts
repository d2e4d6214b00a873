/**
 * What a product-scoped key (product, ai_agent, core) sees of the certification: any key reads it
 * (SPEC §9), but products are isolated (SPEC §3) — evidence that names artifacts or exceptions,
 * possibly of other products, is replaced by how many there are.
 */
import type { Certification } from './types.js';

/** Evidence members that list artifacts (`product/class/name vN`) or exceptions. */
const NAMING = new Set([
  'rewritten',
  'missing',
  'createdByUnknownKey',
  'withoutRetention',
  'activeExceptions',
  'notTimeBoxed',
]);

export function forScopedKey(result: Certification): Certification {
  return {
    ...result,
    checks: result.checks.map((check) => ({
      ...check,
      evidence: Object.fromEntries(
        Object.entries(check.evidence).map(([key, value]) =>
          NAMING.has(key) && Array.isArray(value) ? [key, value.length] : [key, value],
        ),
      ),
    })),
  };
}
