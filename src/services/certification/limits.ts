/** Certification L1–L5 (SPEC §9, §2.3): each limit configured and enforced, with current usage. */
import { BucketError } from '../../domain/errors.js';
import type { RateKind } from '../../domain/rates.js';
import type { BatchReader } from '../../http/batch-items.js';
import type { GateBinding } from '../../http/auth.js';
import type { GateInfoService } from '../gate-info.js';
import { brief, deniedBy, type Prober } from './probe.js';
import type { CheckDefinition } from './types.js';

function refusedRate(kind: RateKind, limit: number) {
  return { kind, allowed: false, retryAfterMs: 1000, scope: 'global' as const, limit };
}

function rateProbe(probe: Prober, kind: RateKind, limit: number) {
  return probe.decide({
    as: 'ai_assistant',
    action: kind === 'write' ? 'artifact.write' : 'artifact.read',
    product: 'ai_assistant',
    class: 'metadata',
    size: 2,
    rate: refusedRate(kind, limit),
  });
}

/** Whether a batch route's reader refuses one item over `maxBatch` with 400 batch_too_large. */
function batchRefused(read: BatchReader | undefined, maxBatch: number): boolean {
  if (!read) return false;
  const lines = Buffer.from('{}\n'.repeat(maxBatch + 1));
  try {
    read(lines, maxBatch);
    return false;
  } catch (error) {
    return error instanceof BucketError && error.code === 'batch_too_large';
  }
}

export function limitChecks(gateInfo: GateInfoService): CheckDefinition[] {
  return [
    {
      id: 'L1',
      name: 'size_limit',
      async run(inputs) {
        const max = inputs.policy.document.limits.maxArtifactBytes;
        const over = await inputs.probe.decide({
          as: 'ai_avatar',
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'model_checkpoint',
          size: max + 1,
        });
        return {
          pass: max > 0 && deniedBy(over, 'max_bytes'),
          evidence: { maxArtifactBytes: max, dryRunOverLimit: brief(over) },
        };
      },
    },
    {
      id: 'L2',
      name: 'write_rate_limit',
      async run(inputs) {
        const limit = inputs.policy.document.limits.writesPerSecond;
        const refused = await rateProbe(inputs.probe, 'write', limit);
        const { usage } = await gateInfo.scaleLimits();
        return {
          pass: limit > 0 && deniedBy(refused, 'writes_per_second'),
          evidence: {
            writesPerSecond: limit,
            current: usage.writesPerSecond,
            dryRun: brief(refused),
          },
        };
      },
    },
    {
      id: 'L3',
      name: 'read_rate_limit',
      async run(inputs) {
        const limit = inputs.policy.document.limits.readsPerSecond;
        const refused = await rateProbe(inputs.probe, 'read', limit);
        const { usage } = await gateInfo.scaleLimits();
        return {
          pass: limit > 0 && deniedBy(refused, 'reads_per_second'),
          evidence: {
            readsPerSecond: limit,
            current: usage.readsPerSecond,
            dryRun: brief(refused),
          },
        };
      },
    },
    {
      id: 'L4',
      name: 'batch_limit',
      async run(inputs) {
        const maxBatch = inputs.policy.document.limits.maxBatch;
        const endpoints = inputs.routes.filter((route) => route.action === 'artifact.batch');
        const name = (route: GateBinding) => `${route.method} ${route.url}`;
        // Each endpoint is fed one item over the limit through the reader it uses itself.
        const unenforced = endpoints.filter((route) => !batchRefused(route.batchItems, maxBatch));
        return {
          pass: maxBatch > 0 && unenforced.length === 0,
          evidence: {
            maxBatch,
            batchEndpoints: endpoints.map(name),
            overLimitRefused: unenforced.length === 0,
            ...(unenforced.length > 0 ? { notEnforced: unenforced.map(name) } : {}),
          },
        };
      },
    },
    {
      id: 'L5',
      name: 'artifacts_capacity_limit',
      async run(inputs) {
        const { maxArtifacts, storageCapacityBytes } = inputs.policy.document.limits;
        const full = { bytes: storageCapacityBytes, artifacts: maxArtifacts };
        const refused = await inputs.probe.decide({
          as: 'ai_assistant',
          action: 'artifact.write',
          product: 'ai_assistant',
          class: 'metadata',
          json: { note: 'certification' },
          usage: { product: { bytes: 0, artifacts: 0 }, total: full },
        });
        const { usage } = await gateInfo.scaleLimits();
        return {
          pass: maxArtifacts > 0 && storageCapacityBytes > 0 && deniedBy(refused),
          evidence: {
            maxArtifacts,
            storageCapacityBytes,
            current: { artifacts: usage.artifacts, bytes: usage.bytes },
            dryRunFullBucket: brief(refused),
          },
        };
      },
    },
  ];
}
