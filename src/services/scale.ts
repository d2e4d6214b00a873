/** Live readings of the rates and the write concurrency against the live policy (SPEC §2.3, §7). */
import { reading, type ScaleReading } from '../domain/scale.js';
import type { Limiter } from '../storage/ports.js';
import type { PolicyService } from './policies.js';

/** Names of the readings this module owns; quota and capacity readings are added elsewhere. */
export const RATE_READINGS = [
  'writes_per_second',
  'reads_per_second',
  'concurrent_writes',
] as const;

export async function rateReadings(
  policies: PolicyService,
  limiter: Limiter,
): Promise<ScaleReading[]> {
  const limits = policies.current().document.limits;
  const [rates, inFlight] = await Promise.all([limiter.rateUsage(), limiter.writesInFlight()]);
  return [
    reading('writes_per_second', rates.write, limits.writesPerSecond),
    reading('reads_per_second', rates.read, limits.readsPerSecond),
    reading('concurrent_writes', inFlight, limits.concurrentWrites),
  ];
}
