/**
 * Certification G2 (SPEC §9: "the log verifies to the latest checkpoint from the last scrub"): the
 * entries after the last passed scrub's checkpoint verified up to the latest checkpoint — bytes,
 * leaf hashes, columns, the tree folded from the scrubbed prefix's stored subtrees, the latest
 * checkpoint's root and signature — through the verification of `bucket audit verify`
 * (audit/verify.ts). Bounded: a longer tail is left to the next scrub.
 */
import { decompose } from '../../audit/compact.js';
import type { NoteVerifier } from '../../audit/note.js';
import { verifyAuditLog } from '../../audit/verify.js';
import type { ScrubCheckpoint } from '../../domain/scrub.js';
import type { MetadataStore, StoredCheckpoint } from '../../storage/ports.js';
import { RECENT_ENTRY_LIMIT } from './recent-versions.js';

const MAX_PROBLEMS = 10;

export interface TailVerification {
  /** Null when the tail was longer than the limit (not verified here; the scrub will). */
  readonly verified: boolean | null;
  readonly entries: number;
  readonly problems: readonly string[];
}

export async function verifyTail(
  metadata: MetadataStore,
  verifier: NoteVerifier,
  scrubbed: ScrubCheckpoint,
  latest: StoredCheckpoint,
): Promise<TailVerification> {
  const entries = latest.size - scrubbed.size;
  if (entries < 0) return { verified: false, entries: 0, problems: ['the log shrank'] };
  if (entries > RECENT_ENTRY_LIMIT) return { verified: null, entries, problems: [] };
  const report = await verifyAuditLog({
    entries: metadata.auditRangeIndexed(scrubbed.size, latest.size),
    from: scrubbed.size,
    frontier: scrubbed.size > 0 ? await metadata.auditSubtrees(decompose(0, scrubbed.size)) : [],
    size: latest.size,
    checkpoints: [latest],
    verifier,
    maxProblems: MAX_PROBLEMS,
  });
  const problems = report.problems.map((problem) => `${problem.code}: ${problem.message}`);
  return { verified: problems.length === 0, entries, problems };
}
