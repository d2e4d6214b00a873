/** The RunStore port (SPEC §11): Core's runs, their leases and their transitions' events. */
import type { EventDraft } from '../../domain/events.js';
import type { ArtifactRef, RunFilter, RunRecord } from '../../domain/runs.js';
import type { ChangeEntry } from './change-entry.js';

/** A node's claim of runs to execute (`RunStore.claimRuns`); times in ms. */
export interface RunClaim {
  readonly owner: string;
  readonly now: number;
  readonly leaseUntil: number;
  /** Runs this claim may take at most (the node's free workers). */
  readonly limit: number;
  /** Runs that may hold a live lease at once across every node (`limits.concurrentRuns`). */
  readonly maxActive: number;
}

/** A leased run as its lease renewal finds it. */
export interface RunLease {
  readonly id: string;
  readonly cancelRequested: boolean;
}

/**
 * Runs, persisted at every transition. A node executes a run only while it holds the run's lease
 * (`claimRuns`): exactly one node at a time; a dead node's lease runs out and another node claims
 * the run, which continues from its first unfinished step. Every state write names the lease
 * owner and changes nothing once the lease is another's.
 */
export interface RunStore {
  /**
   * Stores a queued run with its `bucket.run.queued` event and its allow entry, unless
   * `maxQueued` runs are queued already: then nothing is stored and the answer is false.
   */
  insertRun(run: RunRecord, maxQueued: number, entry?: ChangeEntry): Promise<boolean>;
  getRun(id: string): Promise<RunRecord | null>;
  /** The newest first, filtered. */
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /**
   * Leases to `owner` up to `limit` runs, queued or running with an expired lease (the running
   * ones first, then the oldest), while fewer than `maxActive` runs hold a live lease.
   */
  claimRuns(claim: RunClaim): Promise<RunRecord[]>;
  /** Writes the run's new state with its events; false (nothing written) without the lease. */
  saveRun(run: RunRecord, owner: string, events: readonly EventDraft[]): Promise<boolean>;
  /** Extends `owner`'s leases; the runs still leased, with their cancel requests. */
  renewRuns(owner: string, ids: readonly string[], leaseUntil: number): Promise<RunLease[]>;
  /**
   * Cancels a run: a queued one at once (`cancelled`, its event), a running one by a request its
   * lease holder acts on. Null for an unknown id; a finished run is returned unchanged.
   */
  requestCancel(id: string, at: string, entry?: ChangeEntry): Promise<RunRecord | null>;
  /**
   * Sets the `execution_record` of a finished run that has none (a run cancelled while queued,
   * whose record is stored after the cancel): the run as it then is, or null for an unknown id.
   */
  attachRecord(id: string, record: ArtifactRef): Promise<RunRecord | null>;
  /** Gives `owner`'s leases back (the node stops); every lease when `owner` is null. */
  releaseRuns(owner: string | null): Promise<void>;
}
