/**
 * Policy exceptions (SPEC §9, the seed's "product urgency"): a time-boxed policy change a product
 * (or the owner) requests and only the owner's approval applies; the Bucket reverts it by itself
 * at `expiresAt`. The record and its events (SPEC §10).
 */
import type { JsonPatchOperation } from '../policy/diff.js';
import { policyChanged, type EventDraft } from './events.js';
import type { PolicyVersion } from './policy.js';

export type ExceptionStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface PolicyException {
  readonly id: string;
  readonly status: ExceptionStatus;
  readonly title: string;
  readonly justification: string;
  /** The requested patch (RFC 6902) on the policy document. */
  readonly patch: readonly unknown[];
  readonly durationMinutes: number;
  /** The requesting product key's product, or null for the owner. */
  readonly product: string | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly reason: string | null;
  /** The policy version the approval made, and when the Bucket reverts it. */
  readonly policyVersion: number | null;
  readonly expiresAt: string | null;
  /** The patch that undoes the approval's effect, computed at approval (docs/decisions/0032). */
  readonly revertPatch: readonly JsonPatchOperation[] | null;
  /** The policy version the expiry made (null when nothing was left to revert). */
  readonly revertVersion: number | null;
  readonly expiredAt: string | null;
}

export const MAX_EXCEPTION_MINUTES = 10080;

export function exceptionEvent(
  exception: PolicyException,
  type: 'requested' | 'approved' | 'rejected' | 'expired',
): EventDraft {
  return {
    type: `bucket.exception.${type}`,
    subject: `exception/${exception.id}`,
    product: exception.product,
    data: {
      id: exception.id,
      title: exception.title,
      status: exception.status,
      durationMinutes: exception.durationMinutes,
      policyVersion: exception.policyVersion,
      expiresAt: exception.expiresAt,
      revertVersion: exception.revertVersion,
    },
  };
}

/** The policy change (when any) and the exception's own event, in that order. */
export function decisionEvents(
  exception: PolicyException,
  policy: PolicyVersion | null,
): EventDraft[] {
  const type = exception.status === 'pending' ? 'requested' : exception.status;
  return [...(policy ? [policyChanged(policy)] : []), exceptionEvent(exception, type)];
}
