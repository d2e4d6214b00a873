/**
 * The commit rule: what a version commit checks and does to the usage counters, decided inside the
 * commit's transaction against the head and usage as they stand there (SPEC §2.3). Both metadata
 * stores call it, the embedded one per write under the SQLite lock, the PostgreSQL one per write of
 * a batch checked in memory under the audit tree head's lock.
 */
import type { LegalHold } from './holds.js';
import { storageBreach, type StorageLimits, type UsageFacts } from './usage.js';

/**
 * Why a version may not commit: its head moved, it would pass a storage limit, its content is
 * sealed under a subject key an erasure destroyed meanwhile, or it is a tombstone that a legal hold
 * in force when it commits covers (SPEC §8: placed on any node since the gate's decision).
 */
export type CommitRefusal =
  | { readonly ok: false; readonly reason: 'version_conflict'; readonly current: number }
  | { readonly ok: false; readonly reason: 'subject_erased'; readonly keyId: string }
  | { readonly ok: false; readonly reason: 'legal_hold'; readonly holds: readonly LegalHold[] }
  | {
      readonly ok: false;
      readonly reason: 'insufficient_storage';
      readonly rule: string;
      readonly message: string;
    };

/** What the rule reads of a commit (a storage `VersionCommit` is one). */
export interface CommitCandidate {
  /** The head version the gate decided against; 0 when the name did not exist. */
  readonly expectedCurrentVersion: number;
  readonly version: { readonly size: number };
  /** When present, a commit that would pass them is refused. */
  readonly limits?: StorageLimits | undefined;
}

/**
 * The usage after the commit, or why it may not commit: refused when the head is no longer
 * `expectedCurrentVersion`, or when its bytes (and, for a new name, its artifact) would pass
 * `limits` from `before`. A version adds its size, less `releasedBytes` — what the parts of the
 * S3 upload it completes held until then (decision record 0052); only the first version of a name
 * adds an artifact. Re-checked under the store's write lock, so that writes decided concurrently
 * against the same usage cannot together pass a limit.
 */
export function checkCommit(
  commit: CommitCandidate,
  currentHead: number,
  before: UsageFacts,
  releasedBytes = 0,
): UsageFacts | CommitRefusal {
  if (currentHead !== commit.expectedCurrentVersion) {
    return { ok: false, reason: 'version_conflict', current: currentHead };
  }
  const bytes = commit.version.size - releasedBytes;
  const artifacts = currentHead === 0 ? 1 : 0;
  if (commit.limits) {
    const breach = storageBreach(before, commit.limits, bytes, artifacts);
    if (breach) return { ok: false, reason: 'insufficient_storage', ...breach };
  }
  return {
    product: {
      bytes: before.product.bytes + bytes,
      artifacts: before.product.artifacts + artifacts,
    },
    total: { bytes: before.total.bytes + bytes, artifacts: before.total.artifacts + artifacts },
  };
}

/** Whether `checkCommit` refused (its answer is then no usage). */
export function isRefusal(outcome: UsageFacts | CommitRefusal): outcome is CommitRefusal {
  return 'ok' in outcome;
}
