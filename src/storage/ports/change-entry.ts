/** The audit entry a governance change appends in its own transaction (every port's changes). */
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';

/**
 * The audit entry of the decision that allowed a governance change (a key, a policy, an
 * integration, a suspension lifted). A mutation given one appends it in the change's own
 * transaction, after the change, and sets `receipt` once both have committed: the log never holds
 * the allow without the change, nor the change without its allow (SPEC §6).
 */
export interface ChangeEntry {
  readonly draft: AuditDraft;
  receipt: AuditReceipt | null;
}
