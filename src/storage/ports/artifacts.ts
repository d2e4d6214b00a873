/** The ArtifactStore port: heads, versions, inline contents, usage counters (the commit rule). */
import type { LegalHold } from '../../domain/holds.js';
import type { SubjectVersion } from '../../domain/subjects.js';
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { CommitRefusal } from '../../domain/commit.js';
import type { NewSubjectKey } from '../../domain/erasure.js';
import type { ProductUsage, StorageLimits, UsageFacts } from '../../domain/usage.js';
import type { S3CommitExtras } from './s3.js';

export interface ListArtifactsQuery {
  readonly product: string;
  readonly class?: string | undefined;
  readonly prefix?: string | undefined;
  /** Exclusive lower bound in (class, name) order, from a cursor. */
  readonly after?: { class: string; name: string } | undefined;
  readonly limit: number;
  /** Tombstoned artifacts too (their head is the tombstone): S3's ListObjectVersions. */
  readonly withTombstoned?: boolean | undefined;
}

export interface VersionForRead {
  readonly version: ArtifactVersion;
  /** The bytes when the version is stored inline, else null. */
  readonly inline: Buffer | null;
}

/** A version as verification reads it (`allVersions`). */
export interface StoredVersion extends VersionForRead {
  /**
   * The salt of the facts hash its allowing entry carries (audit/version-facts.ts); null for a
   * version written before entries carried one, and once an erasure has destroyed it.
   */
  readonly factsSalt: Buffer | null;
  /**
   * The leaf index of the entry that allowed it (null for versions stored before migration 12):
   * a scrub leaves versions committed after the entries it read for the next one.
   */
  readonly auditIndex?: number | null;
  /** Whether an erasure destroyed the salt with the content (SPEC §8; its purge entry checked). */
  readonly saltDestroyed: boolean;
}

/** A new version to commit, with the head version the gate decided against. */
export interface VersionCommit {
  readonly version: ArtifactVersion;
  /** The current head version the decision was made against; 0 when the name did not exist. */
  readonly expectedCurrentVersion: number;
  /** The bytes when `version.storage === 'inline'`. */
  readonly inline: Buffer | null;
  /** The salt of the version's facts hash in its audit entry (audit/version-facts.ts). */
  readonly factsSalt: Buffer;
  /**
   * The subject key that seals the content, when the subject had none: stored with the version in
   * its transaction. Absent for a sealed version whose key exists: the commit is then refused
   * (`subject_erased`) unless that key is still live.
   */
  readonly newSubjectKey?: NewSubjectKey | undefined;
  /** When present, the commit is refused (`insufficient_storage`) if it would exceed them. */
  readonly limits?: StorageLimits;
  /**
   * When present (tombstones), the legal holds in force as the commit's transaction reads them are
   * passed to it, and the commit is refused (`legal_hold`) when it returns any: the holds that
   * cover the artifact.
   */
  readonly unlessHeld?: ((holds: readonly LegalHold[]) => readonly LegalHold[]) | undefined;
  /** The decision that allowed the write: appended to the audit log in the same transaction. */
  readonly audit: AuditDraft;
  /** What a version written through the S3 door commits with it (src/s3/). */
  readonly s3?: S3CommitExtras | undefined;
}

export type CommitResult = { ok: true; usage?: UsageFacts; receipt: AuditReceipt } | CommitRefusal;
export type CommitDone = Extract<CommitResult, { ok: true }>;

/** All the commits of an atomic batch, or the first that was refused (nothing was committed). */
export type AtomicCommitResult =
  | { readonly ok: true; readonly results: readonly CommitDone[] }
  | { readonly ok: false; readonly index: number; readonly refusal: CommitRefusal };

/** Artifacts: heads, versions, inline contents and the usage counters they move. */
export interface ArtifactStore {
  /** Whether any artifact (tombstoned ones included) is stored for the product, or of the class. */
  hasArtifacts(where: { product: string } | { class: string }): Promise<boolean>;
  /** The newest version of an artifact (a tombstone included), or null. */
  getHead(key: ArtifactKey): Promise<ArtifactVersion | null>;
  getVersion(key: ArtifactKey, version: number): Promise<ArtifactVersion | null>;
  /** The bytes of an inline version. */
  readInline(key: ArtifactKey, version: number): Promise<Buffer | null>;
  /**
   * A version (the head when `version` is undefined) with its inline bytes in one round trip —
   * the read path of small contents.
   */
  getForRead(key: ArtifactKey, version?: number): Promise<VersionForRead | null>;
  listVersions(key: ArtifactKey): Promise<ArtifactVersion[]>;
  /**
   * A page of an artifact's versions, newest first: those numbered below `below` (every one when
   * null), at most `limit`.
   */
  listVersionsDescending(
    key: ArtifactKey,
    below: number | null,
    limit: number,
  ): Promise<ArtifactVersion[]>;
  /** Heads of live (not tombstoned, unless asked) artifacts in (class, name) order. */
  listArtifacts(query: ListArtifactsQuery): Promise<ArtifactVersion[]>;
  /**
   * Atomically, with the commit rule (domain/commit.ts): checks the head and the storage limits,
   * appends the version, moves the head, updates usage counters, appends its audit entry.
   */
  commitVersion(commit: VersionCommit): Promise<CommitResult>;
  /**
   * Commits every version with its entry in one transaction, in order, or none of them (SPEC §15
   * atomic batches): the first refusal rolls all of them back.
   */
  commitVersionsAtomically(commits: readonly VersionCommit[]): Promise<AtomicCommitResult>;
  usage(product: string): Promise<ProductUsage>;
  /** The product's usage and the Bucket's total, from the counters (never a scan of versions). */
  usageFacts(product: string): Promise<UsageFacts>;
  /** Usage of every product with stored artifacts (the metrics gauges). */
  usageByProduct(): Promise<Record<string, ProductUsage>>;
  /**
   * Whether any version keeps its content at this blob address: a plaintext content's `sha256`,
   * or a sealed content's id (SPEC §8).
   */
  isContentReferenced(address: string): Promise<boolean>;
  /** Every stored artifact version with its inline bytes and salt, for verification. */
  /** How many version rows are stored (tombstones and purged ones included). */
  countVersions(): Promise<number>;
  allVersions(): AsyncIterable<StoredVersion>;
  /**
   * Every version of a data subject still holding content (no tombstone, no purge), a page at a
   * time from the subject index, in (product, class, name, version) order (SPEC §8 DSAR).
   */
  subjectVersions(subject: string): AsyncIterable<SubjectVersion>;
}
