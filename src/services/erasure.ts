/**
 * Erasure of a data subject (SPEC §8, GDPR Art. 17), the owner's: every live version of the
 * subject not withheld — a legal hold, or a compliance retention that has not ended; governance
 * retention is overridden — has its content purged, its facts salt and metadata destroyed, with
 * an entry and a `bucket.artifact.erased` event each; the subject's keys are destroyed when
 * nothing is withheld (crypto-shredding); the report's hash goes in the erasure's own entry. All
 * of it one transaction (SubjectStore.eraseSubject); the blobs of erased versions are removed
 * after it. Withheld data is an attempt SPEC §5 names (T3), recorded as a threat; the erasure
 * still answers with what it did and what it kept.
 */
import { randomUUID } from 'node:crypto';
import type { ArtifactVersion } from '../domain/artifact.js';
import { threat, type Decision } from '../domain/decision.js';
import {
  erasureReportHash,
  withheldReason,
  type ErasureFindings,
  type ErasureReport,
} from '../domain/erasure.js';
import { BucketError } from '../domain/errors.js';
import { ActiveHolds, holdTargetOf } from '../domain/holds.js';
import type { Principal } from '../domain/principal.js';
import type { BlobStore, ChangeEntry, MetadataStore } from '../storage/ports.js';
import { withEntryMembers } from './ledger.js';

/** Blob removals in flight at once after an erasure. */
const BLOB_REMOVALS = 16;

export interface EraseRequest {
  readonly subject: string;
  readonly reason: string;
}

/** The allow of the request: its decision, and the pending entry the erasure appends. */
export interface EraseAllowed {
  readonly decision: Decision;
  readonly entry: ChangeEntry;
  readonly requestId: string;
  readonly principal: Principal;
}

export interface ErasureServiceOptions {
  readonly now: () => number;
  /** Records threats found after the allow (T3 for withheld data), counted toward nothing. */
  readonly alert?: (
    requestId: string,
    principal: Principal,
    found: ReturnType<typeof threat>[],
  ) => Promise<void>;
}

export class ErasureService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly options: ErasureServiceOptions,
  ) {}

  async erase(request: EraseRequest, allowed: EraseAllowed): Promise<ErasureReport> {
    const id = `erasure_${randomUUID()}`;
    const now = this.options.now();
    const at = new Date(now).toISOString();
    const blobCutoff = Date.now();
    const { report, blobs } = await this.metadata.eraseSubject({
      id,
      subject: request.subject,
      reason: request.reason,
      requestedAt: at,
      at,
      // The holds in force as the erasure's transaction reads them: one placed on any node just
      // before counts (hold changes and erasures are ordered by the same lock).
      withheld: (holds) => {
        const active = new ActiveHolds(holds);
        return (version) =>
          withheldReason(version, active.covering(holdTargetOf(version)).length > 0, now);
      },
      versionEntry: (version) => versionEntry(version, id, allowed),
      entry: allowed.entry,
      sealEntry: (findings) => sealEntry(findings, allowed.entry),
    });
    // Best effort, BLOB_REMOVALS at a time (an object store answers each in a round trip): a
    // blob still referenced (a plaintext copy elsewhere) stays; one left behind by a crash here is
    // sealed under a destroyed key, and the orphan sweeper removes it.
    const pending = [...new Set(blobs)];
    const remover = async () => {
      for (let address = pending.pop(); address !== undefined; address = pending.pop()) {
        if (await this.metadata.isContentReferenced(address).catch(() => true)) continue;
        await this.blobs.removeIfOlder(address, blobCutoff).catch(() => false);
      }
    };
    await Promise.all(Array.from({ length: BLOB_REMOVALS }, remover));
    if (report.withheld.length > 0) {
      const reasons = [...new Set(report.withheld.map((w) => w.reason))].join(', ');
      await this.options.alert?.(allowed.requestId, allowed.principal, [
        threat(
          'T3',
          `erasure ${id} of subject ${request.subject}: ${report.withheld.length} version(s) ` +
            `withheld (${reasons}); they are kept and the subject's key with them`,
        ),
      ]);
    }
    return report;
  }

  async get(id: string): Promise<ErasureReport> {
    const report = await this.metadata.getErasure(id);
    if (!report) throw new BucketError('erasure_not_found', `no erasure "${id}"`);
    return report;
  }
}

/** One erased version's entry: the erasure's decision on that version, with its `purge` claim. */
function versionEntry(version: ArtifactVersion, erasureId: string, allowed: EraseAllowed) {
  const decision: Decision = {
    ...allowed.decision,
    id: randomUUID(),
    operation: 'ERASE',
    target: { product: version.product, class: version.class, name: version.name },
    reasons: [{ rule: 'erasure', message: `erased for its data subject (${erasureId})` }],
    threats: [],
  };
  return {
    decision,
    requestId: allowed.requestId,
    purge: {
      version: version.version,
      sha256: version.sha256,
      size: version.size,
      reason: 'erasure',
    },
  };
}

/** The erasure's allow entry, committing to its report by the report's hash (SPEC §8). */
function sealEntry(findings: ErasureFindings, entry: ChangeEntry) {
  return withEntryMembers(entry, {
    governance: {
      erasure: {
        id: findings.id,
        subject: findings.subject,
        reason: findings.reason,
        reportSha256: erasureReportHash(findings),
        erased: findings.erased.length,
        withheld: findings.withheld.length,
        keyDestroyed: findings.keyDestroyed,
      },
    },
  }).draft;
}
