/** The RetentionStore port: legal holds, retention changes, the sweep's candidates, purges. */
import type { ArtifactKey, ArtifactVersion, Retention } from '../../domain/artifact.js';
import type { LegalHold } from '../../domain/holds.js';
import type { PurgeReason } from '../../domain/retention.js';
import type { ChangeEntry } from './change-entry.js';

/** Where a page of the retention sweep's candidates ends: the last one's place in the index. */
export interface DueCursor {
  readonly until: string;
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
}

/** How a hold is lifted (SPEC §8: history kept). */
export interface HoldLift {
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/**
 * Retention and legal holds (SPEC §8): holds (each change moves the change stamp, so every node's
 * cache follows), retention changes, the sweep's candidates and purges.
 */
export interface RetentionStore {
  insertHold(hold: LegalHold, entry?: ChangeEntry): Promise<void>;
  /** Lifts an active hold; returns it lifted, or null when no active hold has this id. */
  liftHold(id: string, lift: HoldLift, entry?: ChangeEntry): Promise<LegalHold | null>;
  /** Every hold ever placed (lifted ones too), oldest first. */
  listHolds(): Promise<LegalHold[]>;
  /**
   * Sets one version's retention, only while it is still `previous` (the retention the change was
   * decided on: two changes at once cannot both be judged against the same old end); returns the
   * version as it now stands, or null when it does not exist or its retention changed meanwhile.
   */
  setRetention(
    key: ArtifactKey,
    version: number,
    change: { readonly previous: Retention; readonly next: Retention },
    entry?: ChangeEntry,
  ): Promise<ArtifactVersion | null>;
  /**
   * Versions whose content is still stored and whose retention ended at or before `now`, in the
   * order of the retention index, after `after`: a page of the sweep's candidates (an index range
   * scan, whatever the number of versions not due).
   */
  retentionDue(now: string, after: DueCursor | null, limit: number): Promise<ArtifactVersion[]>;
  /**
   * Removes a version's content from the metadata store (inline bytes; a blob is the caller's to
   * remove once no version references it) and records the purge, with its entry and its event in
   * the same transaction; the version row stays. The purge's own transaction re-checks what the
   * sweep decided on: the version's retention still ended at `at` (not lengthened meanwhile), and
   * no legal hold in force as that transaction reads them (placed on any node) covers it (`held`).
   * Returns the purged version, or null when it was purged, lengthened or held meanwhile.
   */
  purgeVersion(
    key: ArtifactKey,
    version: number,
    purge: {
      readonly at: string;
      readonly reason: PurgeReason;
      readonly held: (holds: readonly LegalHold[]) => boolean;
    },
    entry: ChangeEntry,
  ): Promise<ArtifactVersion | null>;
  /**
   * Runs `fn` while this process holds the named lease among every process sharing the store;
   * resolves null at once when another holds it (one sweep at a time across nodes).
   */
  exclusively<T>(lease: string, fn: () => Promise<T>): Promise<T | null>;
}
