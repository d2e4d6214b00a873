/**
 * Rows of the SQL adapters (SQLite and PostgreSQL share the schema's column names) and their
 * conversion to domain records. Boolean columns are integers in SQLite and booleans in
 * PostgreSQL; both are read here.
 */
import type { ArtifactVersion, RetentionMode } from '../domain/artifact.js';
import type { Severity, ThreatId } from '../domain/decision.js';
import type { EventType, StoredEvent } from '../domain/events.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { PolicyDocument, PolicyVersion } from '../domain/policy.js';
import type { KeyRecord, PrincipalKind } from '../domain/principal.js';
import type { ThreatRecord } from '../domain/threats.js';
import type { DeliveryAttempt, WebhookRecord } from '../domain/webhooks.js';
import type { StoredAuditEntry, StoredCheckpoint, VersionForRead } from './ports.js';

/** SQLite stores booleans as 0/1; PostgreSQL as booleans. */
type Flag = number | boolean;
const flag = (value: Flag): boolean => value === true || value === 1;

/** The columns of a version, in the order both adapters select them. */
export const VERSION_COLUMNS =
  'product, class, name, version, sha256, size, content_type, meta, created_at, created_by, ' +
  'retention_mode, retention_until, tombstone, storage';

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
 * A version's values in VERSION_COLUMNS order, then its inline bytes, as the SQLite store inserts
 * them (the tombstone as 0 or 1). The PostgreSQL store inserts whole batches column by column
 * (postgres/version-rows.ts).
 */
export function versionValues(v: ArtifactVersion, inline: Buffer | null) {
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
    inline,
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
}

export type ReadRow = VersionRow & { inline_content: Buffer | null };

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
  };
}

export function toRead(row: ReadRow): VersionForRead {
  return { version: toVersion(row), inline: row.inline_content };
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
