/**
 * What every artifact use case works with: the storage ports, the live policy and the authorizer
 * (which records every decision, SPEC §6); and the steps they share before their decision — charging the rate, taking a write
 * slot, looking the target up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { Decision, Threat } from '../../domain/decision.js';
import type { LegalHold } from '../../domain/holds.js';
import { BucketError } from '../../domain/errors.js';
import { productWriteSlots } from '../../domain/policy.js';
import { rateLimitsOf, type RateKind, type RateVerdict } from '../../domain/rates.js';
import type { TargetState } from '../../gate/context.js';
import type { AuditReceipt } from '../../audit/entry.js';
import type {
  BlobStore,
  Limiter,
  MetadataStore,
  VersionCommit,
  WriteSlot,
} from '../../storage/ports.js';
import type { Authorizer, RequestInfo } from '../authorize.js';
import type { PolicyService } from '../policies.js';
import type { CommitOutcome } from './commit.js';
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

/**
 * What an item of a batch (SPEC §15) brings to its write: `slot`, whether the batch holds a write
 * slot (a batch takes one; the item takes none of its own); `paceUntil`, until when (ms) the item
 * waits for the write rate rather than being refused by it; `atomic`, in an atomic batch, where
 * the item hands its commit instead of committing (services/artifacts/atomic-batch.ts).
 */
export interface BatchItemContext {
  readonly slot: boolean;
  readonly paceUntil: number;
  readonly atomic?: (commit: VersionCommit) => Promise<CommitOutcome>;
}

/** A request on one artifact; `batch` when it is an item of a batch. */
export type ArtifactRequest = RequestInfo & ArtifactKey & { readonly batch?: BatchItemContext };

const HELD: WriteSlot = { release: () => undefined };

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

/**
 * Charges the request to its rate; the gate's limits stage decides on the verdict (T5). Until
 * `paceUntil` (a batch's item) a refusal is waited out — a dry look first, so that waiting spends
 * nothing — and the charge tried again: a batch goes at the rate rather than failing past it.
 */
export async function chargeRate(
  deps: LimitDeps,
  kind: RateKind,
  product: string,
  paceUntil = 0,
): Promise<RateVerdict> {
  const limits = rateLimitsOf(deps.policies.current().document, kind, product);
  for (;;) {
    const verdict = await deps.limiter.consume(kind, product, limits).catch(limiterUnavailable);
    if (verdict.allowed) return verdict;
    let wait = verdict.retryAfterMs;
    while (Date.now() + wait <= paceUntil) {
      await sleep(Math.max(1, wait));
      const next = await deps.limiter.peek(kind, product, limits).catch(limiterUnavailable);
      if (next.allowed) break;
      wait = next.retryAfterMs;
    }
    if (Date.now() + wait > paceUntil) return verdict;
  }
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
  batch?: ArtifactRequest['batch'],
): Promise<WriteSlot | null> {
  if (!rate.allowed) return null;
  // A batch's item: the batch holds the slot (released by the batch), or found none.
  if (batch !== undefined) return batch.slot ? HELD : null;
  return acquireBatchSlot(deps, product);
}

/** A write slot within the product's share, or null when none is free (a batch takes one). */
export function acquireBatchSlot(deps: LimitDeps, product: string): Promise<WriteSlot | null> {
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
export function limiterUnavailable(): never {
  // The backend's own error stays out of the answer: it may name internal hosts.
  throw new BucketError(
    'gate_unavailable',
    'the limiter (rates, write slots, failed authentications) does not answer; nothing was ' +
      'stored, retry later',
  );
}
