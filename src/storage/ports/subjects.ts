/** The SubjectStore port: data subjects' keys and their erasures (SPEC §8, Art. 17). */
import type { AuditDraft } from '../../audit/entry.js';
import type { ArtifactVersion } from '../../domain/artifact.js';
import type { LegalHold } from '../../domain/holds.js';
import type {
  ErasureFindings,
  ErasureReport,
  SubjectKeyRecord,
  WithheldReason,
} from '../../domain/erasure.js';
import type { ChangeEntry } from './change-entry.js';

/** What an erasure is asked to do; the store decides each version inside its transaction. */
export interface ErasureRequest {
  readonly id: string;
  readonly subject: string;
  readonly reason: string;
  readonly requestedAt: string;
  /** When the erased versions are marked purged, and the report's `completedAt`. */
  readonly at: string;
  /**
   * Given the legal holds in force (read inside the erasure's transaction, which every hold's
   * change is ordered with), why a live version of the subject is kept, or null.
   */
  readonly withheld: (
    holds: readonly LegalHold[],
  ) => (version: ArtifactVersion) => WithheldReason | null;
  /** The entry of one version's erasure (a `purge` member, reason `erasure`). */
  readonly versionEntry: (version: ArtifactVersion) => AuditDraft;
  /** The erasure's own allow entry, given the findings (it carries the report's hash). */
  readonly entry: ChangeEntry;
  readonly sealEntry: (findings: ErasureFindings) => AuditDraft;
}

/** What an erasure did: its report, and the blob addresses its purges left unreferenced. */
export interface ErasureOutcome {
  readonly report: ErasureReport;
  /** Blob addresses of erased versions (content ids or digests): removable once unreferenced. */
  readonly blobs: readonly string[];
}

export interface SubjectStore {
  /** The subject's oldest live key, which its next sealed write uses; null when it has none. */
  liveSubjectKey(subject: string): Promise<SubjectKeyRecord | null>;
  /** A subject key by id, destroyed ones included (their `wrapped` null); null when unknown. */
  subjectKey(id: string): Promise<SubjectKeyRecord | null>;
  /**
   * In one transaction: every live version of the subject not withheld has its content purged
   * (inline bytes removed, facts salt and metadata destroyed; the row stays) with its own entry
   * and `bucket.artifact.erased` event; when nothing is withheld, the subject's keys are
   * destroyed; the erasure's entry (with the report's hash) and its report are stored. Blobs are
   * the caller's to remove afterwards.
   */
  eraseSubject(request: ErasureRequest): Promise<ErasureOutcome>;
  getErasure(id: string): Promise<ErasureReport | null>;
  /** Every erasure's report, oldest first (verification). */
  listErasures(): Promise<ErasureReport[]>;
}
