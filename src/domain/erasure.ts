/**
 * Erasure of a data subject (SPEC §8, GDPR Art. 17), pure: which versions are withheld, the report
 * (pinned members) and its hash, the subject keys. No I/O.
 */
import { createHash } from 'node:crypto';
import type { ArtifactVersion } from './artifact.js';
import { canonicalJson } from './canonical.js';

/** Why a version of the subject is not erased: a hold or compliance retention, never overridden. */
export type WithheldReason = 'legal_hold' | 'compliance_retention';

/**
 * Why `version` must be kept by an erasure at `now`, or null: the subject's right overrides
 * governance-mode retention, never a legal hold or a compliance retention that has not ended.
 */
export function withheldReason(
  version: ArtifactVersion,
  held: boolean,
  now: number,
): WithheldReason | null {
  if (held) return 'legal_hold';
  const { mode, until } = version.retention;
  if (mode === 'compliance' && (until === null || Date.parse(until) > now)) {
    return 'compliance_retention';
  }
  return null;
}

export interface ErasedVersion {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
}

export interface WithheldVersion {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly reason: WithheldReason;
}

/** The report of SPEC §8 without its `audit` member (the entry that carries the report's hash). */
export interface ErasureFindings {
  readonly id: string;
  readonly subject: string;
  readonly reason: string;
  readonly requestedAt: string;
  readonly completedAt: string;
  readonly erased: ErasedVersion[];
  readonly withheld: WithheldVersion[];
  /** True only when this erasure destroyed a live key of the subject. */
  readonly keyDestroyed: boolean;
  /**
   * Whether the subject had a live data key when the erasure ran: false when it never had
   * encrypted content, or an earlier erasure destroyed its key — then nothing was destroyed.
   * Absent from reports made before it was recorded.
   */
  readonly keyFound?: boolean;
}

export interface ErasureReport extends ErasureFindings {
  readonly audit: { readonly leafIndex: number; readonly leafHash: string };
}

/**
 * The SHA-256 (hex) of the report's RFC 8785 canonical JSON without its `audit` member — the
 * report names the entry that carries this hash, so the hash cannot cover that name.
 */
export function erasureReportHash(report: ErasureFindings): string {
  const findings: ErasureFindings = {
    id: report.id,
    subject: report.subject,
    reason: report.reason,
    requestedAt: report.requestedAt,
    completedAt: report.completedAt,
    erased: report.erased,
    withheld: report.withheld,
    keyDestroyed: report.keyDestroyed,
    // Hashed when recorded, so reports made before it still hash as they did.
    ...(report.keyFound === undefined ? {} : { keyFound: report.keyFound }),
  };
  return createHash('sha256').update(canonicalJson(findings), 'utf8').digest('hex');
}

/**
 * The findings of an erasure that erased and withheld these versions, the subject having a live
 * key or not (`keyFound`): the key is destroyed only when there is one and nothing of the subject
 * is withheld — a report never says a key was destroyed that did not exist.
 */
export function erasureFindings(
  request: Pick<ErasureFindings, 'id' | 'subject' | 'reason' | 'requestedAt'> & { at: string },
  erased: ErasedVersion[],
  withheld: WithheldVersion[],
  keyFound: boolean,
): ErasureFindings {
  return {
    id: request.id,
    subject: request.subject,
    reason: request.reason,
    requestedAt: request.requestedAt,
    completedAt: request.at,
    erased,
    withheld,
    keyDestroyed: keyFound && withheld.length === 0,
    keyFound,
  };
}

export function erasedOf(v: ArtifactVersion): ErasedVersion {
  return { product: v.product, class: v.class, name: v.name, version: v.version, sha256: v.sha256 };
}

export function withheldOf(v: ArtifactVersion, reason: WithheldReason): WithheldVersion {
  return { product: v.product, class: v.class, name: v.name, version: v.version, reason };
}

/** A subject's data key as stored: wrapped by the key-encryption key until it is destroyed. */
export interface SubjectKeyRecord {
  readonly id: string;
  readonly subject: string;
  /** `kek1:…` (storage/master-key.ts); null once destroyed. */
  readonly wrapped: string | null;
  readonly createdAt: string;
  readonly destroyedAt: string | null;
}

/** The associated data a subject key is wrapped under: its id and subject (master-key.ts). */
export function subjectKeyContext(id: string, subject: string): string {
  return `subject-key:${id}:${subject}`;
}

/** A new subject key a version commit stores with itself (the subject's first sealed write). */
export interface NewSubjectKey {
  readonly id: string;
  readonly subject: string;
  readonly wrapped: string;
  readonly createdAt: string;
}
