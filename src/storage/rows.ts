/**
 * Rows of the SQL adapters (SQLite and PostgreSQL share the schema's column names) and their
 * conversion to domain records. Boolean columns are integers in SQLite and booleans in
 * PostgreSQL; both are read here.
 */
import type { ArtifactVersion, RetentionMode } from '../domain/artifact.js';
import type { Severity, ThreatId } from '../domain/decision.js';
import type { EventType, StoredEvent } from '../domain/events.js';
import type { HoldScope, LegalHold } from '../domain/holds.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { PurgeReason, PurgeRecord } from '../domain/retention.js';
import type { SubjectVersion } from '../domain/subjects.js';
import type { Incident, IncidentKind, Mode, ModeState } from '../domain/modes.js';
import type { PolicyDocument, PolicyVersion } from '../domain/policy.js';
import type { KeyRecord, PrincipalKind } from '../domain/principal.js';
import type { ThreatRecord } from '../domain/threats.js';
import type {
  IndexedAuditEntry,
  StoredAuditEntry,
  StoredCheckpoint,
  StoredVersion,
  VersionForRead,
} from './ports.js';
import type { DeliveryAttempt, WebhookRecord } from '../domain/webhooks.js';

/** SQLite stores booleans as 0/1; PostgreSQL as booleans. */
type Flag = number | boolean;
const flag = (value: Flag): boolean => value === true || value === 1;

/** The recorded facts of a version, as its write sets them. */
const RECORDED_COLUMNS =
  'product, class, name, version, sha256, size, content_type, meta, created_at, created_by, ' +
  'retention_mode, retention_until, tombstone, storage, subject';

/**
 * The columns a new version is inserted with (`versionValues` order): its facts, its bytes when
 * inline, its facts salt and the leaf index of the entry that allowed it (SPEC §8 DSAR
 * `auditIndex`).
 */
export const VERSION_INSERT_COLUMNS = `${RECORDED_COLUMNS}, inline_content, facts_salt, audit_index`;

/**
 * The columns of a version, in the order both adapters select them: those its write sets, then
 * its purge (SPEC §8), set only by the retention sweep.
 */
export const VERSION_COLUMNS = `${RECORDED_COLUMNS}, purged_at, purge_reason, purge_audit_index`;

/** An integration's values in the column order both adapters insert. */
export function integrationValues(record: IntegrationRecord) {
  return [
    record.id,
    record.type,
    record.product,
    JSON.stringify(record.classes),
    JSON.stringify(record.dataSchema),
    record.approvedAt,
    record.approvedBy,
    record.revokedAt,
  ] as const;
}

/** A policy version's values in the column order both adapters insert. */
export function policyValues(policy: PolicyVersion) {
  return [
    policy.version,
    policy.hash,
    JSON.stringify(policy.document),
    policy.reason,
    policy.createdAt,
    policy.createdBy,
  ] as const;
}

/**
 * A version's values in VERSION_INSERT_COLUMNS order, as the SQLite store inserts them (the
 * tombstone as 0 or 1). The PostgreSQL store inserts whole batches column by column
 * (postgres/version-rows.ts).
 */
export function versionValues(
  v: ArtifactVersion,
  inline: Buffer | null,
  factsSalt: Buffer,
  auditIndex: number,
) {
  return [
    v.product,
    v.class,
    v.name,
    v.version,
    v.sha256,
    v.size,
    v.contentType,
    JSON.stringify(v.meta),
    v.createdAt,
    v.createdBy,
    v.retention.mode,
    v.retention.until,
    v.tombstone ? 1 : 0,
    v.storage,
    v.subject ?? null,
    inline,
    factsSalt,
    auditIndex,
  ] as const;
}

export interface VersionRow {
  product: string;
  class: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: string;
  created_at: string;
  created_by: string;
  retention_mode: string;
  retention_until: string | null;
  tombstone: Flag;
  storage: string;
  subject: string | null;
  purged_at: string | null;
  purge_reason: string | null;
  purge_audit_index: number | null;
}

export type ReadRow = VersionRow & { inline_content: Buffer | null };

/** A version as verification reads it: with its bytes and the salt of its facts hash. */
export type StoredRow = ReadRow & { facts_salt: Buffer | null };

/** The columns of a StoredRow: a version's whole row, as verification reads it. */
export const STORED_VERSION_COLUMNS = `${VERSION_COLUMNS}, inline_content, facts_salt`;

export function toVersion(row: VersionRow): ArtifactVersion {
  return {
    product: row.product,
    class: row.class,
    name: row.name,
    version: row.version,
    sha256: row.sha256,
    size: row.size,
    contentType: row.content_type,
    meta: JSON.parse(row.meta) as Record<string, string>,
    createdAt: row.created_at,
    createdBy: row.created_by,
    retention: { mode: row.retention_mode as RetentionMode, until: row.retention_until },
    tombstone: flag(row.tombstone),
    storage: row.storage as ArtifactVersion['storage'],
    ...(row.purged_at === null ? {} : { purged: purgeOf(row) }),
    ...(row.subject === null ? {} : { subject: row.subject }),
  };
}

/** A version as the subject index gives it (SPEC §8 DSAR), with its write's leaf index. */
export type SubjectRow = VersionRow & { audit_index: number | null };

export function toSubjectVersion(row: SubjectRow): SubjectVersion {
  return {
    version: toVersion(row),
    auditIndex: row.audit_index === null ? null : Number(row.audit_index),
  };
}

function purgeOf(row: VersionRow): PurgeRecord {
  return {
    at: row.purged_at ?? '',
    reason: row.purge_reason as PurgeReason,
    auditIndex: Number(row.purge_audit_index),
  };
}

/** A legal hold's row (both adapters). */
export interface HoldRow {
  id: string;
  scope: string;
  case_ref: string;
  reason: string;
  placed_at: string;
  placed_by: string;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

export function toHold(row: HoldRow): LegalHold {
  return {
    id: row.id,
    scope: JSON.parse(row.scope) as HoldScope,
    caseRef: row.case_ref,
    reason: row.reason,
    placedAt: row.placed_at,
    placedBy: row.placed_by,
    liftedAt: row.lifted_at,
    liftedBy: row.lifted_by,
    liftReason: row.lift_reason,
  };
}

/** A hold's values in the column order both adapters insert. */
export function holdValues(hold: LegalHold) {
  return [
    hold.id,
    JSON.stringify(hold.scope),
    hold.caseRef,
    hold.reason,
    hold.placedAt,
    hold.placedBy,
    hold.liftedAt,
    hold.liftedBy,
    hold.liftReason,
  ] as const;
}

export function toRead(row: ReadRow): VersionForRead {
  return { version: toVersion(row), inline: row.inline_content };
}

export function toStored(row: StoredRow): StoredVersion {
  return { version: toVersion(row), inline: row.inline_content, factsSalt: row.facts_salt };
}

export interface KeyRow {
  id: string;
  hash: string;
  kind: string;
  product: string | null;
  integration_id: string | null;
  name: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export function toKey(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    hash: row.hash,
    kind: row.kind as PrincipalKind,
    product: row.product,
    integrationId: row.integration_id,
    name: row.name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

export interface PolicyRow {
  version: number;
  hash: string;
  document: string;
  reason: string;
  created_at: string;
  created_by: string;
}

export function toPolicy(row: PolicyRow): PolicyVersion {
  return {
    version: row.version,
    hash: row.hash,
    document: JSON.parse(row.document) as PolicyDocument,
    reason: row.reason,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export interface IntegrationRow {
  id: string;
  type: string;
  product: string;
  classes: string;
  data_schema: string;
  approved_at: string;
  approved_by: string;
  revoked_at: string | null;
}

export function toIntegration(row: IntegrationRow): IntegrationRecord {
  return {
    id: row.id,
    type: row.type,
    product: row.product,
    classes: JSON.parse(row.classes) as string[],
    dataSchema: JSON.parse(row.data_schema) as Record<string, unknown>,
    approvedAt: row.approved_at,
    approvedBy: row.approved_by,
    revokedAt: row.revoked_at,
  };
}

export interface ThreatRow {
  at: string;
  request_id: string;
  principal_id: string | null;
  principal_kind: string | null;
  product: string | null;
  threat_id: string;
  severity: string;
  evidence: string;
  counted: Flag;
}

export function toThreat(row: ThreatRow): ThreatRecord {
  return {
    at: row.at,
    requestId: row.request_id,
    principalId: row.principal_id,
    principalKind: row.principal_kind as PrincipalKind | null,
    product: row.product,
    threatId: row.threat_id as ThreatId,
    severity: row.severity as Severity,
    evidence: row.evidence,
    counted: flag(row.counted),
  };
}

export interface EntryRow {
  idx: number;
  canonical: Buffer;
  leaf_hash: Buffer;
}

export function toEntry(row: EntryRow): StoredAuditEntry {
  return { index: row.idx, canonical: row.canonical, leafHash: row.leaf_hash };
}

/** The columns of an IndexedEntryRow. */
export const INDEXED_ENTRY_COLUMNS =
  'idx, canonical, leaf_hash, time, allow, operation, principal_id, principal_product, ' +
  'target_product, target_class, target_name, threats';

export interface IndexedEntryRow extends EntryRow {
  time: string;
  allow: Flag;
  operation: string;
  principal_id: string;
  principal_product: string | null;
  target_product: string | null;
  target_class: string | null;
  target_name: string | null;
  threats: string;
}

export function toIndexedEntry(row: IndexedEntryRow): IndexedAuditEntry {
  return {
    index: row.idx,
    canonical: row.canonical,
    leafHash: row.leaf_hash,
    columns: {
      time: row.time,
      allow: flag(row.allow),
      operation: row.operation,
      principalId: row.principal_id,
      principalProduct: row.principal_product,
      targetProduct: row.target_product,
      targetClass: row.target_class,
      targetName: row.target_name,
      threats: row.threats,
    },
  };
}

export interface CheckpointRow {
  size: number;
  root_hash: Buffer;
  note: string;
  created_at: string;
}

export function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return { size: row.size, rootHash: row.root_hash, note: row.note, createdAt: row.created_at };
}

export interface EventRow {
  id: number;
  time: string;
  type: string;
  subject: string;
  product: string | null;
  data: string;
  audit_index: number | null;
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    time: row.time,
    type: row.type as EventType,
    subject: row.subject,
    product: row.product,
    data: JSON.parse(row.data) as Record<string, unknown>,
    auditIndex: row.audit_index,
  };
}

/** The one row of `bucket_mode` (SPEC §9). */
export interface ModeRow {
  mode: string;
  since: string;
  reason: string;
  by_id: string;
  incident_id: string | null;
}

export function toModeState(row: ModeRow): ModeState {
  return {
    mode: row.mode as Mode,
    since: row.since,
    reason: row.reason,
    by: row.by_id,
    incidentId: row.incident_id,
  };
}

/** A mode's values in the column order both adapters write. */
export function modeValues(state: ModeState) {
  return [state.mode, state.since, state.reason, state.by, state.incidentId] as const;
}

export interface IncidentRow {
  id: string;
  kind: string;
  status: string;
  detected_at: string;
  evidence: string;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
}

export function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    kind: row.kind as IncidentKind,
    status: row.status === 'resolved' ? 'resolved' : 'open',
    detectedAt: row.detected_at,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    resolution: row.resolution,
  };
}

/** A new incident's values in the column order both adapters insert. */
export function incidentValues(incident: Incident) {
  return [
    incident.id,
    incident.kind,
    incident.status,
    incident.detectedAt,
    JSON.stringify(incident.evidence),
  ] as const;
}

export interface WebhookRow {
  id: string;
  url: string;
  types: string;
  product: string | null;
  secret: string;
  created_at: string;
  created_by: string;
  cursor: number;
  next_attempt_at: number;
  failures: number;
  failing_since: number | null;
  disabled_at: string | null;
}

export function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    types: JSON.parse(row.types) as string[],
    product: row.product,
    secret: row.secret,
    createdAt: row.created_at,
    createdBy: row.created_by,
    cursor: row.cursor,
    nextAttemptAt: row.next_attempt_at,
    failures: row.failures,
    failingSince: row.failing_since,
    disabledAt: row.disabled_at,
  };
}

/** A new webhook's row, in the column order of both stores' inserts. */
export function webhookRow(record: WebhookRecord): unknown[] {
  return [
    record.id,
    record.url,
    JSON.stringify(record.types),
    record.product,
    record.secret,
    record.createdAt,
    record.createdBy,
    record.cursor,
    record.nextAttemptAt,
    record.failures,
    record.failingSince,
    record.disabledAt,
  ];
}

export interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_id: number;
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export function toDelivery(row: DeliveryRow): DeliveryAttempt {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    attempt: row.attempt,
    at: row.at,
    status: row.status,
    error: row.error,
    durationMs: row.duration_ms,
  };
}
