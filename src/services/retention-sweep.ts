/**
 * The retention sweep (SPEC §8): on a schedule (every 60 minutes by default) and on demand, it
 * purges the content of the versions SPEC §8 allows — retention ended, no legal hold, and the
 * artifact tombstoned over 90 days, or the version superseded, or a class whose retention expires.
 * Candidates come a page at a time from the retention index (only versions whose retention has
 * ended are read), and one node sweeps at a time (`exclusively`). Each purge is one transaction
 * with its own audit entry and `bucket.artifact.purged` event; the version row stays. A blob no
 * other version references is removed after the purge committed.
 */
import { randomUUID } from 'node:crypto';
import { blobAddress, type ArtifactKey, type ArtifactVersion } from '../domain/artifact.js';
import type { Decision } from '../domain/decision.js';
import type { Principal } from '../domain/principal.js';
import { BucketError } from '../domain/errors.js';
import { ActiveHolds, holdTargetOf, type LegalHold } from '../domain/holds.js';
import { ruleOf } from '../domain/policy.js';
import { purgeReason, type PurgeFacts, type PurgeReason } from '../domain/retention.js';
import type { BlobStore, DueCursor, MetadataStore } from '../storage/ports.js';
import type { HoldService } from './holds.js';
import type { PolicyService } from './policies.js';
import { startPeriodic, type Periodic } from './periodic.js';

export const RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const FIRST_SWEEP_DELAY_MS = 60 * 1000;
const PAGE = 500;
const LEASE = 'bucket.retention.sweep';

export interface PurgedVersion {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly reason: PurgeReason;
}

export interface SweepReport {
  readonly purged: PurgedVersion[];
  /** Versions whose retention ended that the sweep kept (held, current, restorable). */
  readonly kept: number;
  readonly dryRun: boolean;
}

export interface RetentionSweepOptions {
  readonly now: () => number;
  readonly intervalMs?: number | undefined;
  /** The decision a scheduled sweep acts under (made through the gate when it starts). */
  readonly scheduledDecision: () => Promise<{ decision: Decision; requestId: string }>;
}

type SweepListener = (report: SweepReport | Error) => void;

/**
 * Who the scheduled retention sweep acts as: the Bucket itself, with an executor's rights (SPEC
 * §1: executors run retention sweeps). No key has this id.
 */
export const RETENTION_SCHEDULER: Principal = {
  id: 'bucket:retention-sweep',
  kind: 'executor',
  product: null,
  integrationId: null,
};

export class RetentionSweep {
  private schedule: Periodic | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly policies: PolicyService,
    private readonly holds: HoldService,
    private readonly options: RetentionSweepOptions,
  ) {}

  /** Sweeps every interval; `onSweep` hears of sweeps that purged something, or failed. */
  start(onSweep?: SweepListener): void {
    const every = this.options.intervalMs ?? RETENTION_SWEEP_INTERVAL_MS;
    const tick = () => {
      const run = this.options
        .scheduledDecision()
        .then(({ decision, requestId }) => this.sweep({ dryRun: false, decision, requestId }))
        .then(
          (report) => {
            if (report.purged.length > 0) onSweep?.(report);
          },
          (error: unknown) => {
            // Another node sweeping now is the lease working, not a failure.
            if (error instanceof BucketError && error.code === 'sweep_running') return;
            onSweep?.(error as Error);
          },
        );
      this.running = run;
    };
    // First a minute after the start: a node restarted more often than the interval still sweeps.
    this.schedule = startPeriodic(tick, { firstMs: FIRST_SWEEP_DELAY_MS, everyMs: every });
  }

  async stop(): Promise<void> {
    this.schedule?.stop();
    this.schedule = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * One sweep under `decision` (the allow of its request, or of the schedule). A sweep running on
   * this node or another answers 409 `sweep_running`.
   */
  async sweep(run: {
    dryRun: boolean;
    decision: Decision;
    requestId: string;
  }): Promise<SweepReport> {
    const report = await this.metadata.exclusively(LEASE, () => this.sweepOnce(run));
    if (!report)
      throw new BucketError('sweep_running', 'a retention sweep is running; retry later');
    return report;
  }

  private async sweepOnce(run: {
    dryRun: boolean;
    decision: Decision;
    requestId: string;
  }): Promise<SweepReport> {
    const started = this.options.now();
    // Blob files carry the file system's times, whatever the sweep's clock says.
    const blobCutoff = Date.now();
    const nowIso = new Date(started).toISOString();
    // Holds placed on another node since the last coherence poll are seen too.
    await this.holds.reload();
    const purged: PurgedVersion[] = [];
    let kept = 0;
    let after: DueCursor | null = null;
    for (;;) {
      const page = await this.metadata.retentionDue(nowIso, after, PAGE);
      if (page.length === 0) break;
      const facts = new Map<string, Promise<Omit<PurgeFacts, 'held'>>>();
      for (const version of page) {
        const id = JSON.stringify([version.product, version.class, version.name]);
        let artifact = facts.get(id);
        if (!artifact) {
          artifact = this.artifactFacts(version);
          facts.set(id, artifact);
        }
        const held = this.holds.covering(version).length > 0;
        const reason = purgeReason(version, { ...(await artifact), held }, started);
        if (reason === null) {
          kept += 1;
          continue;
        }
        const done = run.dryRun || (await this.purge(version, reason, nowIso, blobCutoff, run));
        if (!done) {
          // Refused where it would commit (lengthened or held since this page was read): kept.
          kept += 1;
          continue;
        }
        purged.push({
          product: version.product,
          class: version.class,
          name: version.name,
          version: version.version,
          sha256: version.sha256,
          reason,
        });
      }
      const last = page[page.length - 1];
      if (!last || page.length < PAGE) break;
      after = {
        until: last.retention.until ?? '',
        product: last.product,
        class: last.class,
        name: last.name,
        version: last.version,
      };
    }
    return { purged, kept, dryRun: run.dryRun };
  }

  /** What SPEC §8's conditions need to know of a due version's artifact. */
  private async artifactFacts(version: ArtifactVersion): Promise<Omit<PurgeFacts, 'held'>> {
    const key: ArtifactKey = { product: version.product, class: version.class, name: version.name };
    const classRule = ruleOf(this.policies.current().document.classes, version.class);
    // A head that is no tombstone is the current version: one (cached) head read, not the whole
    // history — the common case of current versions kept past their retention, every sweep.
    const latest = await this.metadata.getHead(key);
    if (latest && !latest.tombstone) {
      return {
        currentVersion: latest.version,
        tombstonedAt: null,
        classExpires: classRule?.retention.expire === true,
      };
    }
    const versions = await this.metadata.listVersions(key);
    const head = versions[versions.length - 1];
    const current = [...versions].reverse().find((v) => !v.tombstone);
    return {
      currentVersion: current?.version ?? version.version,
      tombstonedAt: head?.tombstone ? head.createdAt : null,
      classExpires: classRule?.retention.expire === true,
    };
  }

  /** Purges one version with its entry; then its blob, when no version references it any more. */
  private async purge(
    version: ArtifactVersion,
    reason: PurgeReason,
    at: string,
    blobCutoff: number,
    run: { decision: Decision; requestId: string },
  ): Promise<boolean> {
    const key: ArtifactKey = { product: version.product, class: version.class, name: version.name };
    const decision: Decision = {
      ...run.decision,
      id: randomUUID(),
      operation: 'PURGE',
      target: key,
      reasons: [
        {
          rule: 'retention_ended',
          message: `retention ended ${version.retention.until ?? ''} (${reason})`,
        },
      ],
      threats: [],
    };
    const entry = {
      draft: {
        decision,
        requestId: run.requestId,
        purge: { version: version.version, sha256: version.sha256, size: version.size, reason },
      },
      receipt: null,
    };
    // The purge's transaction re-reads the holds in force: one placed on any node since this
    // sweep's reload keeps the version.
    const held = (holds: readonly LegalHold[]) =>
      new ActiveHolds(holds).covering(holdTargetOf(version)).length > 0;
    const purged = await this.metadata.purgeVersion(
      key,
      version.version,
      { at, reason, held },
      entry,
    );
    if (!purged) return false;
    const address = blobAddress(version);
    if (version.storage === 'blob' && !(await this.metadata.isContentReferenced(address))) {
      // A write that stored the same bytes since the sweep began renewed the file: it stays.
      await this.blobs.removeIfOlder(address, blobCutoff);
    }
    return true;
  }
}
