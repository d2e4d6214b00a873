/** Certification T1–T7 (SPEC §9): each detector answers its probe with its threat id. */
import { THREAT_NAMES, type ThreatId } from '../../domain/decision.js';
import { brief, probeHead, reports, type ProbeRequest } from './probe.js';
import type { CheckDefinition } from './types.js';

const OLD_CLAIM = '2000-01-01T00:00:00.000Z';

/** One dry run per threat: what the threat model says its detector catches (SPEC §5). */
const PROBES: Readonly<Record<ThreatId, ProbeRequest>> = {
  // An identity claim naming another product than the key's.
  T1: {
    as: 'ai_assistant',
    action: 'artifact.write',
    product: 'ai_assistant',
    class: 'metadata',
    json: { note: 'certification' },
    query: { product: 'gurukul' },
  },
  // A Mongo-style operator key in JSON content.
  T2: {
    as: 'ai_assistant',
    action: 'artifact.write',
    product: 'ai_assistant',
    class: 'metadata',
    json: { $where: 'certification' },
  },
  // An UPDATE of a write-once class.
  T3: {
    as: 'ai_assistant',
    action: 'artifact.write',
    product: 'ai_assistant',
    class: 'metadata',
    head: probeHead('ai_assistant', 'metadata'),
    json: { note: 'certification' },
  },
  // A parameter named like a bypass.
  T4: {
    as: 'ai_assistant',
    action: 'artifact.read',
    product: 'ai_assistant',
    class: 'metadata',
    query: { skip_audit: 'true' },
  },
  // A body over the class's maximum.
  T5: {
    as: 'ai_assistant',
    action: 'artifact.write',
    product: 'ai_assistant',
    class: 'metadata',
    size: 16 * 1024 + 1,
  },
  // PII in a class that must be PII-free.
  T6: {
    as: 'ai_avatar',
    action: 'artifact.write',
    product: 'ai_avatar',
    class: 'persona_config',
    json: { contact: 'someone@example.com' },
  },
  // A client timestamp claim far in the past (recorded as a claim).
  T7: {
    as: 'ai_assistant',
    action: 'artifact.write',
    product: 'ai_assistant',
    class: 'metadata',
    json: { note: 'certification' },
    meta: { timestamp: OLD_CLAIM },
  },
};

export function detectorChecks(): CheckDefinition[] {
  return (Object.keys(PROBES) as ThreatId[]).map((id) => ({
    id,
    name: THREAT_NAMES[id].name.toLowerCase().replaceAll(/[^a-z]+/g, '_'),
    async run(inputs) {
      const decision = await inputs.probe.decide(PROBES[id]);
      return {
        pass: reports(decision, id),
        evidence: {
          dryRun: brief(decision),
          evidence: decision.threats.find((found) => found.id === id)?.evidence ?? null,
        },
      };
    },
  }));
}
