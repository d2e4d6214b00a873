/**
 * What a verification of the audit log (SPEC §6) reports: a typed code and a message per finding,
 * collected up to a limit while the total keeps counting.
 */

export const DEFAULT_MAX_PROBLEMS = 100;

export type ProblemCode =
  | 'export_malformed'
  | 'entry_missing'
  | 'entry_out_of_order'
  | 'entry_beyond_log'
  | 'entry_malformed'
  | 'entry_not_canonical'
  | 'entry_index_mismatch'
  | 'leaf_hash_mismatch'
  | 'entry_column_mismatch'
  | 'frontier_invalid'
  | 'checkpoint_signature'
  | 'checkpoint_malformed'
  | 'checkpoint_origin'
  | 'checkpoint_size'
  | 'checkpoint_root'
  | 'checkpoint_order'
  | 'inclusion_proof'
  | 'entry_outside_filter'
  | 'truncated'
  | 'content_mismatch'
  | 'content_unreadable'
  | 'version_unaudited'
  | 'version_mismatch'
  | 'facts_mismatch'
  | 'facts_salt_missing'
  | 'retention_unaudited'
  | 'policy_hash_mismatch'
  | 'policy_mismatch'
  | 'policy_unaudited'
  | 'key_unaudited'
  | 'key_mismatch'
  | 'claim_duplicate'
  | 'claim_unstored'
  | 'purge_unaudited'
  | 'purge_unapplied'
  | 'erasure_unaudited'
  | 'erasure_mismatch'
  | 'erasure_unstored';

export interface VerifyProblem {
  readonly code: ProblemCode;
  readonly message: string;
}

export interface VerifyReport {
  /** Entries read and hashed. */
  readonly entries: number;
  /** The recomputed tree: its size (from + entries) and RFC 6962 root (hex). */
  readonly treeSize: number;
  readonly rootHash: string;
  /** Checkpoints whose signature and root were checked against the recomputed tree. */
  readonly checkpoints: number;
  /** Checkpoints below `from` of a partial export, which its entries cannot check. */
  readonly checkpointsSkipped: number;
  readonly versions: number;
  /** Policy versions and keys checked against their entries (a stored log only). */
  readonly policyVersions: number;
  readonly keys: number;
  /** The first `maxProblems` problems found. */
  readonly problems: VerifyProblem[];
  /** All problems found, including those left out of `problems`. */
  readonly problemCount: number;
}

/** The findings of one verification: every one counted, the first `max` kept. */
export class Problems {
  readonly list: VerifyProblem[] = [];
  count = 0;

  constructor(private readonly max: number) {}

  add(code: ProblemCode, message: string): void {
    this.count += 1;
    if (this.list.length < this.max) this.list.push({ code, message });
  }
}
