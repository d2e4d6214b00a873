/**
 * Committing a new version (a write, a tombstone, a restore) with the entry of the decision that
 * allowed it, in one transaction (SPEC §6), and the storage limits re-checked inside it.
 */
import type { AuditReceipt } from '../../audit/entry.js';
import { sealFacts } from '../../audit/version-facts.js';
import type { ArtifactVersion } from '../../domain/artifact.js';
import { threat, type Decision } from '../../domain/decision.js';
import { BucketError } from '../../domain/errors.js';
import type { LegalHold } from '../../domain/holds.js';
import { crossedThresholds, storageLimitsOf } from '../../domain/usage.js';
import type { VersionCommit } from '../../storage/ports.js';
import type { RequestInfo } from '../authorize.js';
import type { ArtifactDeps, ArtifactRequest } from './deps.js';

export type CommitOutcome = { ok: true; receipt: AuditReceipt } | { ok: false; current: number };

/**
 * Commits with the storage limits re-checked inside the transaction (507 when racing writes
 * used the room the gate saw), and alerts on the usage thresholds the commit crossed (T5). A head
 * that moved since the decision is answered, not thrown: a write may decide again.
 */
export async function commitWithinLimits(
  deps: ArtifactDeps,
  request: RequestInfo & Pick<ArtifactRequest, 'batch'>,
  commit: Omit<VersionCommit, 'limits'>,
): Promise<CommitOutcome> {
  const document = deps.policies.current().document;
  const product = commit.version.product;
  const limits = storageLimitsOf(document, product);
  // An atomic batch's item commits with all the others, or not at all (atomic-batch.ts).
  if (request.batch?.atomic) return request.batch.atomic({ ...commit, limits });
  const result = await deps.metadata.commitVersion({
    version: commit.version,
    expectedCurrentVersion: commit.expectedCurrentVersion,
    inline: commit.inline,
    factsSalt: commit.factsSalt,
    newSubjectKey: commit.newSubjectKey,
    unlessHeld: commit.unlessHeld,
    audit: commit.audit,
    limits,
    s3: commit.s3,
  });
  const { alert } = deps.options;
  if (!result.ok && result.reason === 'insufficient_storage') {
    await alert?.(request, [threat('T5', result.message)]);
    throw new BucketError('insufficient_storage', result.message);
  }
  if (!result.ok && result.reason === 'legal_hold') throw heldError(commit.version, result.holds);
  if (!result.ok && result.reason === 'subject_erased') {
    throw new BucketError(
      'conflict',
      `the data subject of ${commit.version.name} was erased while this write was in flight ` +
        '(its key is destroyed); send the write again',
    );
  }
  if (!result.ok) return result;
  if (result.usage && alert) {
    const after = result.usage;
    const added = commit.expectedCurrentVersion === 0 ? 1 : 0;
    const size = commit.version.size;
    const before = {
      product: { bytes: after.product.bytes - size, artifacts: after.product.artifacts - added },
      total: { bytes: after.total.bytes - size, artifacts: after.total.artifacts - added },
    };
    const capacity = document.limits.storageCapacityBytes;
    const alerts = crossedThresholds(before, after, limits, capacity, product);
    if (alerts.length > 0) {
      await alert(
        request,
        alerts.map((evidence) => threat('T5', evidence)),
      );
    }
  }
  return { ok: true, receipt: result.receipt };
}

/**
 * A new version to commit with the entry of the change that allowed it (SPEC §6): its decision,
 * with the status the client receives (201 new artifact, 204 delete), which the gate, deciding
 * before the commit, records as 200; the version it creates; and the salted hash of the version's
 * recorded facts, under a salt of its own stored in its row (SPEC §8, audit/version-facts.ts).
 */
export function versionCommit(
  request: RequestInfo,
  decision: Decision,
  version: ArtifactVersion,
  answered: number,
  expectedCurrentVersion: number,
  inline: Buffer | null,
): Omit<VersionCommit, 'limits'> {
  const sealed = sealFacts(version);
  return {
    version,
    expectedCurrentVersion,
    inline,
    factsSalt: sealed.salt,
    audit: {
      decision: decision.status === answered ? decision : { ...decision, status: answered },
      requestId: request.requestId,
      sha256: version.sha256,
      size: version.size,
      version: version.version,
      facts: sealed.facts,
    },
  };
}

/**
 * A tombstone a legal hold placed since its decision covers (on any node): refused as stage 4
 * refuses it, 403 `legal_hold` with its T3, though it was allowed a moment before.
 */
export function heldError(version: ArtifactVersion, holds: readonly LegalHold[]): BucketError {
  const cases = holds.map((hold) => `${hold.id} (case ${hold.caseRef})`).join(', ');
  const label = `${version.class}/${version.name}`;
  return new BucketError('legal_hold', `legal hold ${cases} covers ${label}`, {
    threats: [threat('T3', `tombstone of ${label} under legal hold`)],
  });
}

export function conflictError(version: ArtifactVersion, current: number): BucketError {
  return new BucketError(
    'version_conflict',
    `a concurrent write moved ${version.name} to version ${current}; retry`,
  );
}
