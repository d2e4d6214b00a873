/** Certification G1–G7 (SPEC §9): the seven guarantees, from live state and dry runs. */
import type { NoteVerifier } from '../../audit/note.js';
import type { LegalHold } from '../../domain/holds.js';
import type { MetadataStore } from '../../storage/ports.js';
import type { AuditService } from '../audit.js';
import type { DriftService } from '../drift.js';
import type { PolicyDrift } from '../drift-policy.js';
import type { PolicyService } from '../policies.js';
import { verifyTail } from './audit-tail.js';
import { brief, deniedBy, probeHead, reports } from './probe.js';
import { incidentsOf, type CheckDefinition, type CheckInputs } from './types.js';

export interface GuaranteeDeps {
  readonly metadata: MetadataStore;
  /** Checks checkpoint signatures (the audit signing key's verifier). */
  readonly verifier: NoteVerifier;
  readonly audit: AuditService;
  readonly drift: DriftService;
  readonly policies: PolicyService;
  /** Finds (and remembers) the audit entry of each policy version. */
  readonly policyEntries: PolicyDrift;
}

/** A checkpoint at most this old, or none needed (the log idle), passes G2. */
const CHECKPOINT_MAX_AGE_MS = 2_000;

const PROBE_HOLD: LegalHold = {
  id: 'certification-probe',
  scope: { product: 'core' },
  caseRef: 'certification',
  reason: 'dry run',
  placedAt: new Date(0).toISOString(),
  placedBy: 'bucket:certification',
  liftedAt: null,
  liftedBy: null,
  liftReason: null,
};

export function guaranteeChecks(deps: GuaranteeDeps): CheckDefinition[] {
  return [
    {
      id: 'G1',
      name: 'immutability',
      async run(inputs) {
        const update = await inputs.probe.decide({
          as: 'ai_avatar',
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'model_checkpoint',
          head: probeHead('ai_avatar', 'model_checkpoint'),
          size: 2,
        });
        const incidents = incidentsOf(inputs, 'integrity');
        const { recent } = inputs;
        return {
          pass:
            deniedBy(update) &&
            reports(update, 'T3') &&
            recent.rewritten.length === 0 &&
            incidents.clear,
          evidence: {
            dryRunUpdateModelCheckpoint: brief(update),
            lastScrub: scrubEvidence(inputs),
            versionsSinceScrub: recent.versions,
            rewritten: recent.rewritten,
            ...incidents,
          },
        };
      },
    },
    {
      id: 'G2',
      name: 'audit',
      async run(inputs) {
        const scrubbed = inputs.lastPassedScrub?.checkpoint ?? null;
        const latest = await deps.metadata.latestCheckpoint();
        const incidents = incidentsOf(inputs, 'audit');
        let extends_ = false;
        if (scrubbed && scrubbed.size <= inputs.auditSize) {
          // The stored subtrees of the scrubbed prefix must still fold to the root it verified.
          extends_ = (await deps.audit.root(scrubbed.size)).toString('hex') === scrubbed.rootHash;
        }
        // Checkpoints are stamped with the wall clock, whatever clock the Bucket's versions use.
        const ageMs = latest ? Date.now() - Date.parse(latest.createdAt) : null;
        // The latest checkpoint's root is the one the stored tree folds to at its size.
        const latestHolds =
          latest !== null &&
          latest.size <= inputs.auditSize &&
          (await deps.audit.root(latest.size)).equals(latest.rootHash);
        const idle = latest !== null && latest.size === inputs.auditSize;
        const fresh = ageMs !== null && ageMs < CHECKPOINT_MAX_AGE_MS;
        const tail =
          scrubbed && latest
            ? await verifyTail(deps.metadata, deps.verifier, scrubbed, latest)
            : null;
        return {
          pass:
            extends_ &&
            latestHolds &&
            tail?.verified !== false &&
            (fresh || idle) &&
            incidents.clear,
          evidence: {
            scrubCheckpoint: scrubbed,
            logExtendsScrubCheckpoint: extends_,
            latestCheckpointHolds: latestHolds,
            tailSinceScrub: tail,
            latestCheckpoint: latest ? { size: latest.size, createdAt: latest.createdAt } : null,
            checkpointAgeMs: ageMs,
            logIdle: idle,
            ...incidents,
          },
        };
      },
    },
    {
      id: 'G3',
      name: 'versioning',
      async run(inputs) {
        const update = await inputs.probe.decide({
          as: 'ai_avatar',
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'avatar_config',
          head: probeHead('ai_avatar', 'avatar_config'),
          json: { look: 'certification' },
        });
        const { recent } = inputs;
        const newVersion = update.allow && update.operation === 'UPDATE';
        return {
          pass: newVersion && recent.missing.length === 0,
          evidence: {
            dryRunUpdateIsNewVersion: { ...brief(update), operation: update.operation },
            versionsSinceScrub: recent.versions,
            missing: recent.missing,
          },
        };
      },
    },
    {
      id: 'G4',
      name: 'ownership',
      async run(inputs) {
        const { recent } = inputs;
        return {
          pass: recent.unknownCreators.length === 0 && inputs.lastPassedScrub !== null,
          evidence: {
            lastScrub: scrubEvidence(inputs),
            versionsSinceScrub: recent.versions,
            createdByUnknownKey: recent.unknownCreators,
          },
        };
      },
    },
    {
      id: 'G5',
      name: 'rejection',
      async run(inputs) {
        const document = inputs.policy.document;
        const admitted: string[] = [];
        let probes = 0;
        for (const product of Object.keys(document.products)) {
          for (const classId of document.rejectedClasses) {
            probes += 1;
            const decision = await inputs.probe.decide({
              as: product,
              action: 'artifact.write',
              product,
              class: classId,
              size: 2,
            });
            if (!deniedBy(decision, 'class_rejected')) admitted.push(`${product}/${classId}`);
          }
        }
        return {
          pass: admitted.length === 0 && document.rejectedClasses.length > 0,
          evidence: { rejectedClasses: document.rejectedClasses, dryRuns: probes, admitted },
        };
      },
    },
    {
      id: 'G6',
      name: 'no_silent_changes',
      async run(inputs) {
        const incidents = incidentsOf(inputs, 'drift');
        let drift: string;
        try {
          drift = await deps.drift.status();
        } catch (error) {
          drift = `unchecked: ${(error as Error).message}`;
        }
        const unaudited = await unauditedPolicyVersions(deps);
        return {
          pass:
            (drift === 'clean' || drift === 'explained') &&
            unaudited.length === 0 &&
            incidents.clear,
          evidence: { drift, policyVersionsWithoutEntry: unaudited, ...incidents },
        };
      },
    },
    {
      id: 'G7',
      name: 'legal',
      async run(inputs) {
        const tombstone = await inputs.probe.decide({
          as: 'core',
          kind: 'core',
          action: 'artifact.delete',
          product: 'core',
          class: 'basket_config',
          head: probeHead('core', 'basket_config'),
          holds: [PROBE_HOLD],
        });
        const { recent } = inputs;
        return {
          pass: deniedBy(tombstone, 'legal_hold') && recent.withoutRetention.length === 0,
          evidence: {
            dryRunTombstoneUnderHold: brief(tombstone),
            versionsSinceScrub: recent.versions,
            withoutRetention: recent.withoutRetention,
          },
        };
      },
    },
  ];
}

function scrubEvidence(inputs: CheckInputs) {
  const scrub = inputs.lastPassedScrub;
  return scrub
    ? { id: scrub.id, finishedAt: scrub.finishedAt, checked: scrub.checked }
    : { passed: null };
}

/** Policy versions no allowed audit entry records as stored (drift-policy.ts finds them). */
async function unauditedPolicyVersions(deps: GuaranteeDeps): Promise<number[]> {
  const missing: number[] = [];
  for (const version of await deps.policies.versions()) {
    if ((await deps.policyEntries.vouchedEntry(version)) === null) missing.push(version.version);
  }
  return missing;
}
