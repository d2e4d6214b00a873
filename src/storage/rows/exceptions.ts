/** Rows of policy exceptions (SPEC §9) as both stores hold them. */
import type { PolicyException } from '../../domain/exceptions.js';
import type { JsonPatchOperation } from '../../policy/diff.js';
import type { ExceptionDecision } from '../ports/exceptions.js';

export interface ExceptionRow {
  id: string;
  status: string;
  title: string;
  justification: string;
  patch: string;
  duration_minutes: number;
  product: string | null;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  policy_version: number | null;
  expires_at: string | null;
  revert_patch: string | null;
  revert_version: number | null;
  expired_at: string | null;
}

/** The columns of an INSERT, in ExceptionRow's order. */
export const EXCEPTION_COLUMNS =
  'id, status, title, justification, patch, duration_minutes, product, requested_by, ' +
  'requested_at, decided_by, decided_at, reason, policy_version, expires_at, revert_patch, ' +
  'revert_version, expired_at';

export function exceptionValues(e: PolicyException) {
  return [
    e.id,
    e.status,
    e.title,
    e.justification,
    JSON.stringify(e.patch),
    e.durationMinutes,
    e.product,
    e.requestedBy,
    e.requestedAt,
    e.decidedBy,
    e.decidedAt,
    e.reason,
    e.policyVersion,
    e.expiresAt,
    e.revertPatch === null ? null : JSON.stringify(e.revertPatch),
    e.revertVersion,
    e.expiredAt,
  ] as const;
}

export function toException(row: ExceptionRow): PolicyException {
  return {
    id: row.id,
    status: row.status as PolicyException['status'],
    title: row.title,
    justification: row.justification,
    patch: JSON.parse(row.patch) as unknown[],
    durationMinutes: Number(row.duration_minutes),
    product: row.product,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    reason: row.reason,
    policyVersion: row.policy_version === null ? null : Number(row.policy_version),
    expiresAt: row.expires_at,
    revertPatch:
      row.revert_patch === null ? null : (JSON.parse(row.revert_patch) as JsonPatchOperation[]),
    revertVersion: row.revert_version === null ? null : Number(row.revert_version),
    expiredAt: row.expired_at,
  };
}

/** The decision's UPDATE parameters, the id last (both stores' statements take this order). */
export function decisionValues(id: string, decision: ExceptionDecision) {
  return [
    decision.status,
    decision.by,
    decision.at,
    decision.reason,
    decision.policy?.version ?? null,
    decision.expiresAt,
    decision.revertPatch === null ? null : JSON.stringify(decision.revertPatch),
    id,
  ] as const;
}
