/**
 * Events (SPEC §10): what every state change announces, as CloudEvents 1.0. Pure: the stores call
 * these builders inside the change's own transaction (an outbox), and assign `id` (the cursor),
 * `time` and `auditindex` there; the source is added when an event is read.
 */
import type { ArtifactVersion } from './artifact.js';
import type { LegalHold } from './holds.js';
import type { IntegrationRecord } from './integration.js';
import type { PolicyVersion } from './policy.js';
import type { KeyRecord } from './principal.js';
import type { PurgeReason } from './retention.js';
import type { KeySuspension, ThreatRecord } from './threats.js';
import type { WebhookRecord } from './webhooks.js';
import { crossedLevels, type StorageLimits, type UsageFacts } from './usage.js';

/**
 * The event types a change emits today. The erased artifact event joins this list with the change
 * that emits it (modes and incidents: domain/modes.ts; runs: domain/runs.ts).
 */
export const EVENT_TYPES = [
  'bucket.artifact.created',
  'bucket.artifact.versioned',
  'bucket.artifact.tombstoned',
  'bucket.artifact.restored',
  'bucket.artifact.purged',
  'bucket.artifact.erased',
  'bucket.hold.placed',
  'bucket.hold.lifted',
  'bucket.key.created',
  'bucket.key.revoked',
  'bucket.key.suspended',
  'bucket.key.reinstated',
  'bucket.integration.approved',
  'bucket.integration.revoked',
  'bucket.policy.changed',
  'bucket.threat.detected',
  'bucket.limit.warning',
  'bucket.mode.changed',
  'bucket.incident.opened',
  'bucket.incident.resolved',
  'bucket.webhook.created',
  'bucket.webhook.deleted',
  'bucket.webhook.disabled',
  'bucket.exception.requested',
  'bucket.exception.approved',
  'bucket.exception.rejected',
  'bucket.exception.expired',
  'bucket.drift.baseline_recorded',
  'bucket.run.queued',
  'bucket.run.started',
  'bucket.run.step.succeeded',
  'bucket.run.step.failed',
  'bucket.run.succeeded',
  'bucket.run.failed',
  'bucket.run.cancelled',
  'bucket.run.timed_out',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What a change says about itself; the store adds the cursor, the time and the audit index. */
export interface EventDraft {
  readonly type: EventType;
  readonly subject: string;
  /** The product the event concerns (its visibility, SPEC §10), or null. */
  readonly product: string | null;
  /** Metadata only: never content, `x-bucket-meta-*` values or secrets. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** An event as stored. */
export interface StoredEvent extends EventDraft {
  /** The cursor: consecutive from 1 in commit order, across every node. */
  readonly id: number;
  readonly time: string;
  /** The leaf index of the change's audit entry, when the change has one. */
  readonly auditIndex: number | null;
}

/** SPEC §10 (pinned): exactly these members. */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: Readonly<Record<string, unknown>>;
  readonly bucketproduct: string | null;
  readonly auditindex: number | null;
}

/** The source of every event of an installation (SPEC §10). */
export function eventSource(installationId: string): string {
  return `bhiv-bucket/${installationId}`;
}

export function cloudEvent(event: StoredEvent, source: string): CloudEvent {
  return {
    specversion: '1.0',
    id: String(event.id),
    source,
    type: event.type,
    subject: event.subject,
    time: event.time,
    datacontenttype: 'application/json',
    data: event.data,
    bucketproduct: event.product,
    auditindex: event.auditIndex,
  };
}

/** Whether an event of `type` matches a `type` filter (a prefix, SPEC §10). */
export function typeMatches(type: string, prefix: string | undefined): boolean {
  return prefix === undefined || type.startsWith(prefix);
}

/** Which version an artifact event is about, and its content's digest and size. */
function versionFacts(version: ArtifactVersion) {
  return {
    product: version.product,
    class: version.class,
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    size: version.size,
  };
}

/**
 * The event of a version commit. `operation` is the allowing decision's: a restore is a DELETE
 * (the class operation it undoes) that commits a live version.
 */
export function artifactEvent(version: ArtifactVersion, operation: string): EventDraft {
  const type: EventType = version.tombstone
    ? 'bucket.artifact.tombstoned'
    : operation === 'DELETE'
      ? 'bucket.artifact.restored'
      : version.version === 1
        ? 'bucket.artifact.created'
        : 'bucket.artifact.versioned';
  return {
    type,
    subject: `${version.product}/${version.class}/${version.name}`,
    product: version.product,
    data: {
      ...versionFacts(version),
      contentType: version.contentType,
      createdBy: version.createdBy,
    },
  };
}

/**
 * The usage thresholds a commit crossed (T5, SPEC §2.3) as `limit.warning` events: exactly one
 * commit crosses each level, so each is announced once.
 */
export function limitWarnings(
  product: string,
  before: UsageFacts,
  after: UsageFacts,
  limits: StorageLimits | undefined,
): EventDraft[] {
  if (!limits || limits.capacityBytes === undefined) return [];
  // A level of the whole installation is no product's to see: such events carry no product.
  return crossedLevels(before, after, limits, limits.capacityBytes, product).map(
    ({ scope, message }) => {
      const owner = scope === 'product' ? product : null;
      return {
        type: 'bucket.limit.warning',
        subject: owner ?? 'total',
        product: owner,
        data: { product: owner, level: message.slice(0, message.indexOf(':')), message },
      };
    },
  );
}

type KeyVerb = 'created' | 'revoked';

export function keyEvent(verb: KeyVerb, key: KeyRecord): EventDraft {
  return {
    type: `bucket.key.${verb}`,
    subject: key.id,
    product: key.product,
    data: {
      id: key.id,
      kind: key.kind,
      product: key.product,
      integrationId: key.integrationId,
      name: key.name,
      expiresAt: key.expiresAt,
      ...(verb === 'revoked' ? { revokedAt: key.revokedAt } : {}),
    },
  };
}

export function keySuspended(suspension: KeySuspension, product: string | null): EventDraft {
  return {
    type: 'bucket.key.suspended',
    subject: suspension.keyId,
    product,
    data: { id: suspension.keyId, suspendedAt: suspension.suspendedAt, reason: suspension.reason },
  };
}

export function keyReinstated(keyId: string, product: string | null): EventDraft {
  return { type: 'bucket.key.reinstated', subject: keyId, product, data: { id: keyId } };
}

export function integrationEvent(
  verb: 'approved' | 'revoked',
  record: IntegrationRecord,
): EventDraft {
  return {
    type: `bucket.integration.${verb}`,
    subject: record.id,
    product: record.product,
    data: {
      id: record.id,
      type: record.type,
      product: record.product,
      classes: record.classes,
      approvedBy: record.approvedBy,
      ...(verb === 'revoked' ? { revokedAt: record.revokedAt } : {}),
    },
  };
}

/**
 * The events of an integration's revocation made at `at`: the integration's and each of its keys'.
 * An integration revoked earlier keeps its time, and had its events then: none.
 */
export function integrationRevocation(
  revoked: { integration: IntegrationRecord; revokedKeys: readonly KeyRecord[] } | null,
  at: string,
): EventDraft[] {
  if (revoked?.integration.revokedAt !== at) return [];
  return [
    integrationEvent('revoked', revoked.integration),
    ...revoked.revokedKeys.map((key) => keyEvent('revoked', key)),
  ];
}

export function policyChanged(policy: PolicyVersion): EventDraft {
  return {
    type: 'bucket.policy.changed',
    subject: `policy/${policy.version}`,
    product: null,
    data: {
      version: policy.version,
      hash: policy.hash,
      reason: policy.reason,
      createdBy: policy.createdBy,
    },
  };
}

/** A detection: its evidence stays in the threat record (it may quote what was refused). */
export function threatDetected(record: ThreatRecord): EventDraft {
  return {
    type: 'bucket.threat.detected',
    subject: record.principalId ?? record.requestId,
    product: record.product,
    data: {
      threatId: record.threatId,
      severity: record.severity,
      principalId: record.principalId,
      principalKind: record.principalKind,
      requestId: record.requestId,
      counted: record.counted,
    },
  };
}

/** A version's content removed by the retention sweep (SPEC §8); its row and entries stay. */
export function artifactPurged(version: ArtifactVersion, reason: PurgeReason): EventDraft {
  return {
    type: 'bucket.artifact.purged',
    subject: `${version.product}/${version.class}/${version.name}`,
    product: version.product,
    data: { ...versionFacts(version), reason },
  };
}

/**
 * A version's content erased for its data subject (SPEC §8 Art. 17): which version, and the
 * erasure that removed it — not the subject, whose id the event bus does not spread.
 */
export function artifactErased(version: ArtifactVersion, erasureId: string): EventDraft {
  return {
    type: 'bucket.artifact.erased',
    subject: `${version.product}/${version.class}/${version.name}`,
    product: version.product,
    data: { ...versionFacts(version), erasureId },
  };
}

/**
 * A legal hold placed or lifted. A product-scoped hold is its product's to see; a subject hold
 * names no product (the subject may have versions in several).
 */
export function holdEvent(verb: 'placed' | 'lifted', hold: LegalHold): EventDraft {
  return {
    type: `bucket.hold.${verb}`,
    subject: hold.id,
    product: 'product' in hold.scope ? hold.scope.product : null,
    data: {
      id: hold.id,
      scope: hold.scope,
      caseRef: hold.caseRef,
      placedBy: hold.placedBy,
      ...(verb === 'lifted' ? { liftedAt: hold.liftedAt, liftedBy: hold.liftedBy } : {}),
    },
  };
}

/**
 * A webhook created, deleted, or disabled after its retry window. Its secret never, nor its URL's
 * path and query (some receivers carry a token there): the origin it points at.
 */
export function webhookEvent(
  verb: 'created' | 'deleted' | 'disabled',
  webhook: WebhookRecord,
  reason?: string,
): EventDraft {
  return {
    type: `bucket.webhook.${verb}`,
    subject: webhook.id,
    product: null,
    data: {
      id: webhook.id,
      target: new URL(webhook.url).origin,
      types: webhook.types,
      product: webhook.product,
      ...(reason !== undefined ? { reason } : {}),
    },
  };
}

/** The events of a webhook change that found `webhook` (none when it found nothing). */
export function webhookEventsOf(verb: 'deleted' | 'disabled', reason?: string) {
  return (webhook: WebhookRecord | null): EventDraft[] =>
    webhook ? [webhookEvent(verb, webhook, reason)] : [];
}
