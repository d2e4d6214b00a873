/** The port of policy exceptions (SPEC §9), part of the MetadataStore (ports.ts). */
import type { PolicyException } from '../../domain/exceptions.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { JsonPatchOperation } from '../../policy/diff.js';
import type { ChangeEntry } from './change-entry.js';

/** An exception's decision (SPEC §9): approval makes a policy version in the same transaction. */
export interface ExceptionDecision {
  readonly status: 'approved' | 'rejected';
  readonly by: string;
  readonly at: string;
  readonly reason: string;
  readonly expiresAt: string | null;
  readonly revertPatch: readonly JsonPatchOperation[] | null;
  /** The version an approval makes (its number is the exception's `policyVersion`). */
  readonly policy: PolicyVersion | null;
}

/**
 * Policy exceptions. Decisions and expiries are conditional on the status (pending, approved): of
 * two nodes or two requests exactly one changes it; the other gets null / false and stores nothing.
 */
export interface ExceptionStore {
  insertException(exception: PolicyException, entry?: ChangeEntry): Promise<void>;
  getException(id: string): Promise<PolicyException | null>;
  /** The newest first; only those of `product` when given. */
  listExceptions(product?: string): Promise<PolicyException[]>;
  decideException(
    id: string,
    decision: ExceptionDecision,
    entry?: ChangeEntry,
  ): Promise<PolicyException | null>;
  /** Approved exceptions whose `expiresAt` is at or before `at`, the earliest first. */
  dueExceptions(at: string): Promise<PolicyException[]>;
  /** Marks an approved exception expired, storing its reverting version (when any) with it. */
  expireException(
    id: string,
    at: string,
    revert: PolicyVersion | null,
    entry: ChangeEntry,
  ): Promise<PolicyException | null>;
}
