/** Rows of keys, policy versions, integrations and threat records (both adapters). */
import type { Severity, ThreatId } from '../../domain/decision.js';
import type { IntegrationRecord } from '../../domain/integration.js';
import type { PolicyDocument, PolicyVersion } from '../../domain/policy.js';
import type { KeyRecord, PrincipalKind } from '../../domain/principal.js';
import type { ThreatRecord } from '../../domain/threats.js';
import { flag, type Flag } from './flag.js';

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
    document: parsedDocument(row.document),
    reason: row.reason,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/**
 * A stored policy document. Text that is not JSON (a row edited by hand) reads as null: the policy
 * service then marks the version unusable and fails closed, rather than the Bucket not starting.
 */
function parsedDocument(text: string): PolicyDocument {
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch {
    return null as unknown as PolicyDocument;
  }
}

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
