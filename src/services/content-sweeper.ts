/**
 * Orphan contents. A write stores its blob before the transaction that records its version; when
 * that transaction refuses (the 507 re-check of the storage limits, a conflict) or never happens
 * (a crash in between), the blob is referenced by no version. Such contents are removed once they
 * are older than the grace period — far longer than any write takes from its blob to its commit —
 * at start and then every interval, so they never pile up. Deleting is idempotent: several nodes
 * may sweep one object store.
 */
import type { BlobStore, MetadataStore } from '../storage/ports.js';
import { startPeriodic, type Periodic } from './periodic.js';

export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** The first sweep waits a little, so that a start is not slowed by it. */
const FIRST_SWEEP_DELAY_MS = 30 * 1000;

export interface SweepResult {
  /** Contents older than the grace period that were looked at. */
  readonly checked: number;
  /** Of those, the ones no version recorded, now deleted. */
  readonly removed: number;
}

export interface ContentSweeperOptions {
  readonly graceMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => number;
  /** Told of every sweep that removed something, or failed (for the log). */
  readonly onSweep?: (result: SweepResult | Error) => void;
}

export class ContentSweeper {
  private schedule: Periodic | null = null;
  private running: Promise<SweepResult> | null = null;
  /**
   * The cutoff of the last sweep: a content older than it was looked at already, so later sweeps
   * ask the metadata store only about those that crossed the grace period since (the listing
   * still walks the store; the lookups stay proportional to the writes of one interval).
   */
  private lastCutoff: number | null = null;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly options: ContentSweeperOptions = {},
  ) {}

  start(onSweep: ContentSweeperOptions['onSweep'] = this.options.onSweep): void {
    const every = this.options.intervalMs ?? SWEEP_INTERVAL_MS;
    const tick = () => {
      this.sweep().then(
        (result) => {
          if (result.removed > 0) onSweep?.(result);
        },
        (error: unknown) => onSweep?.(error as Error),
      );
    };
    this.schedule = startPeriodic(tick, { firstMs: FIRST_SWEEP_DELAY_MS, everyMs: every });
  }

  async stop(): Promise<void> {
    this.schedule?.stop();
    this.schedule = null;
    await this.running?.catch(() => undefined);
  }

  /** One sweep; a sweep already running is joined rather than doubled. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepOnce(): Promise<SweepResult> {
    const now = this.options.now ?? Date.now;
    const before = now() - (this.options.graceMs ?? ORPHAN_GRACE_MS);
    // A minute of overlap: clocks of nodes and of the object store need not agree exactly.
    const since = this.lastCutoff === null ? Number.NEGATIVE_INFINITY : this.lastCutoff - 60_000;
    let checked = 0;
    let removed = 0;
    for await (const { sha256, modified } of this.blobs.contentsBefore(before)) {
      if (modified < since) continue;
      checked += 1;
      if (await this.metadata.isContentReferenced(sha256)) continue;
      if (await this.blobs.removeIfOlder(sha256, before)) removed += 1;
    }
    this.lastCutoff = before;
    return { checked, removed };
  }
}
