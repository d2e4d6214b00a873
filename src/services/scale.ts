/**
 * Live readings of every enforced limit against the live policy (SPEC §2.3, §7 scale-status): the
 * rates, the write concurrency, the Bucket's storage capacity and artifact count, and each
 * product's quota and artifact count.
 */
import type { Principal } from '../domain/principal.js';
import { maxEventLoopDelayOf } from '../domain/policy.js';
import { PRODUCT_SCOPED_KINDS } from '../domain/principal.js';
import { reading, type ScaleReading } from '../domain/scale.js';
import type { ProductUsage } from '../domain/usage.js';
import type { Limiter, MetadataStore } from '../storage/ports.js';
import type { EventLoopDelay } from './event-loop.js';
import type { PolicyService } from './policies.js';

const NO_USAGE: ProductUsage = { bytes: 0, artifacts: 0 };

/**
 * Every reading `principal` may see: the Bucket's limits for all; the products' quotas and counts
 * for every product, except that a product key sees only its own product's (the others' usage is
 * theirs to know).
 */
export async function scaleReadings(
  policies: PolicyService,
  limiter: Limiter,
  metadata: MetadataStore,
  principal: Pick<Principal, 'kind' | 'product'>,
  eventLoop: Pick<EventLoopDelay, 'p99'>,
): Promise<ScaleReading[]> {
  const { document } = policies.current();
  const { limits } = document;
  const [rates, inFlight, usage] = await Promise.all([
    limiter.rateUsage(),
    limiter.writesInFlight(),
    metadata.usageByProduct(),
  ]);
  const total = Object.values(usage).reduce(
    (sum, product) => ({
      bytes: sum.bytes + product.bytes,
      artifacts: sum.artifacts + product.artifacts,
    }),
    NO_USAGE,
  );
  const products = PRODUCT_SCOPED_KINDS.has(principal.kind)
    ? [principal.product ?? ''].filter((id) => Object.hasOwn(document.products, id))
    : Object.keys(document.products);
  return [
    reading('writes_per_second', rates.write, limits.writesPerSecond),
    reading('reads_per_second', rates.read, limits.readsPerSecond),
    reading('concurrent_writes', inFlight, limits.concurrentWrites),
    reading('storage_capacity', total.bytes, limits.storageCapacityBytes),
    reading('artifacts', total.artifacts, limits.maxArtifacts),
    // SPEC §15: this node's p99 event-loop delay against the latency limit.
    reading('latency', Math.round(eventLoop.p99() * 100) / 100, maxEventLoopDelayOf(limits)),
    ...products.flatMap((id) => {
      const rule = document.products[id];
      const used = Object.hasOwn(usage, id) ? (usage[id] ?? NO_USAGE) : NO_USAGE;
      return rule
        ? [
            reading(`quota:${id}`, used.bytes, rule.quotaBytes),
            reading(`artifacts:${id}`, used.artifacts, rule.maxArtifacts),
          ]
        : [];
    }),
  ];
}
