/**
 * What every artifact use case works with: the storage ports, the live policy and the authorizer
 * (which records every decision, SPEC §6); and the steps they share before their decision — charging the rate, taking a write
 * slot, looking the target up.
 */
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { Decision, Threat } from '../../domain/decision.js';
import type { LegalHold } from '../../domain/holds.js';
import { BucketError } from '../../domain/errors.js';
import { productWriteSlots } from '../../domain/policy.js';
import { rateLimitsOf, type RateKind, type RateVerdict } from '../../domain/rates.js';
import type { TargetState } from '../../gate/context.js';
import type { AuditReceipt } from '../../audit/entry.js';
import type { BlobStore, Limiter, MetadataStore, WriteSlot } from '../../storage/ports.js';
import type { Authorizer, RequestInfo } from '../authorize.js';
import type { PolicyService } from '../policies.js';
import type { SubjectKeys } from '../subject-keys.js';
import type { IntegrityReporter } from './integrity.js';

export interface ArtifactServiceOptions {
  /** Contents up to this size are kept inline in the metadata store. */
  readonly inlineMaxBytes: number;
  /**
   * Records T5 alerts that no gate decision carries: a usage threshold crossed by a commit, or a
   * commit refused by the in-transaction re-check of the storage limits.
   */
  readonly alert?: (request: RequestInfo, threats: Threat[]) => Promise<void>;
  /** The active legal holds covering a version (SPEC §8); none when absent. */
  readonly holds?: { covering(version: ArtifactVersion): readonly LegalHold[] };
  /** The clock of versions' times, retention and the restore window (tests set it). */
  readonly now?: () => number;
  /** Told of a content that failed its check on read (SPEC §9: an integrity incident). */
  readonly onIntegrityFailure?: IntegrityReporter;
  /** The seals of subject-bound contents (SPEC §8 encryption at rest). */
  readonly subjectKeys: SubjectKeys;
}

export interface ArtifactDeps {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly limiter: Limiter;
  readonly policies: PolicyService;
  readonly authorizer: Authorizer;
  readonly options: ArtifactServiceOptions;
}

/** A request on one artifact. */
export type ArtifactRequest = RequestInfo & ArtifactKey;

/** What a write, a tombstone or a restore answers. */
export interface WriteResult {
  readonly created: boolean;
  readonly version: ArtifactVersion;
  readonly decision: Decision;
  /** Where the decision that allowed the change sits in the audit log (SPEC §6 receipts). */
  readonly receipt: AuditReceipt;
}

/** What the limit facts are read from: the limiter and the live policy. */
type LimitDeps = Pick<ArtifactDeps, 'limiter' | 'policies'>;

/** Charges the request to its rate; the gate's limits stage decides on the verdict (T5). */
export function chargeRate(deps: LimitDeps, kind: RateKind, product: string): Promise<RateVerdict> {
  return deps.limiter
    .consume(kind, product, rateLimitsOf(deps.policies.current().document, kind, product))
    .catch(limiterUnavailable);
}

/**
 * The verdict `chargeRate` would give now, spending nothing, and whether `acquireWriteSlot` would
 * find a slot, holding none: the facts of a dry run (`validate-operation`, SPEC §4.2), which must
 * see the limits the real request would meet.
 */
export async function peekLimits(
  deps: LimitDeps,
  kind: RateKind,
  product: string,
): Promise<{ rate: RateVerdict; writeSlot: boolean }> {
  const document = deps.policies.current().document;
  const rate = await deps.limiter
    .peek(kind, product, rateLimitsOf(document, kind, product))
    .catch(limiterUnavailable);
  if (!rate.allowed) return { rate, writeSlot: false };
  const { limits } = document;
  const writeSlot = await deps.limiter
    .writeSlotFree(limits.concurrentWrites, { product, max: productWriteSlots(limits) })
    .catch(limiterUnavailable);
  return { rate, writeSlot };
}

/**
 * A write slot within the product's share of them (SPEC §2.3), unless the rate already refused
 * the write (it then holds none).
 */
export async function acquireWriteSlot(
  deps: LimitDeps,
  rate: RateVerdict,
  product: string,
): Promise<WriteSlot | null> {
  if (!rate.allowed) return null;
  const limits = deps.policies.current().document.limits;
  return deps.limiter
    .tryAcquireWrite(limits.concurrentWrites, { product, max: productWriteSlots(limits) })
    .catch(limiterUnavailable);
}

/** The target's head, and the legal holds covering it (stage 4 refuses a tombstone under one). */
export async function loadTarget(deps: ArtifactDeps, key: ArtifactKey): Promise<TargetState> {
  const head = await deps.metadata.getHead(key);
  return { head, holds: head ? heldBy(deps, head) : [] };
}

export function heldBy(deps: ArtifactDeps, version: ArtifactVersion): readonly LegalHold[] {
  return deps.options.holds?.covering(version) ?? [];
}

/** Now, as an ISO-8601 instant, by the service's clock. */
export function nowIso(deps: ArtifactDeps): string {
  return new Date(deps.options.now?.() ?? Date.now()).toISOString();
}

export function keyOf(request: ArtifactKey): ArtifactKey {
  return { product: request.product, class: request.class, name: request.name };
}

/**
 * The limiter (rates, write slots: Redis in a scale-out) not answering: the gate cannot decide
 * the limits stage, so it fails closed with 503, as for any failure inside the gate.
 */
function limiterUnavailable(): never {
  // The backend's own error stays out of the answer: it may name internal hosts.
  throw new BucketError(
    'gate_unavailable',
    'the limiter (rates, write slots) does not answer; nothing was stored, retry later',
  );
}
