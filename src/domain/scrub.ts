/**
 * Scrubs (SPEC §9): a background integrity check of every content, the audit log from the last
 * scrubbed checkpoint, every version against its entry and the drift checks. The record is what
 * `GET /v1/governance/scrub/{id}` answers, persisted so that any node answers it after a restart.
 */

export const SCRUB_STATUSES = ['running', 'passed', 'failed'] as const;
export type ScrubStatus = (typeof SCRUB_STATUSES)[number];

/** How much a scrub has checked so far. */
export interface ScrubChecked {
  readonly contents: number;
  readonly entries: number;
  readonly versions: number;
}

/** One finding: the verification's problem code (audit/verify-report.ts) or a scrub's own. */
export interface ScrubProblem {
  readonly code: string;
  readonly message: string;
}

/** The signed checkpoint a scrub verified the log up to (where the next one starts). */
export interface ScrubCheckpoint {
  readonly size: number;
  /** Hex. */
  readonly rootHash: string;
}

export interface ScrubRecord {
  readonly id: string;
  readonly status: ScrubStatus;
  readonly checked: ScrubChecked;
  readonly problems: readonly ScrubProblem[];
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The key id that asked for it, or `system` for a scheduled scrub. */
  readonly startedBy: string;
  /** Set when it passed: the log verifies up to this checkpoint. */
  readonly checkpoint: ScrubCheckpoint | null;
}

/** A scrub interrupted by a crash or a stop is failed with this problem at the next start. */
export const ABANDONED: ScrubProblem = {
  code: 'scrub_abandoned',
  message: 'the scrub was interrupted (the node stopped or crashed) before it finished',
};

export const NO_CHECKS: ScrubChecked = { contents: 0, entries: 0, versions: 0 };

/** What the API answers of a scrub (SPEC §9 pinned fields, then the checkpoint). */
export function scrubView(scrub: ScrubRecord) {
  return {
    id: scrub.id,
    status: scrub.status,
    checked: scrub.checked,
    problems: [...scrub.problems],
    startedAt: scrub.startedAt,
    finishedAt: scrub.finishedAt,
    startedBy: scrub.startedBy,
    checkpoint: scrub.checkpoint,
  };
}
