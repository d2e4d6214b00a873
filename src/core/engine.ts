/**
 * The run engine (SPEC §11): a bounded pool of workers per node. It claims runs with leases
 * (`RunStore.claimRuns`: at most `limits.concurrentRuns` leased at once across every node, the
 * interrupted ones first, then the oldest queued), executes each (execute.ts), renews its leases
 * and acts on cancel requests made on any node. It wakes when a run is queued here, and polls for
 * what other nodes queued or left behind (a dead node's lease runs out after `leaseMs`). Nothing
 * is claimed unless the Bucket's mode is `normal`.
 */
import { randomBytes } from 'node:crypto';
import type { MetadataStore } from '../storage/ports.js';
import { ExecutionStopped, RunExecution, type ExecutionDeps } from './execute.js';

export interface EngineOptions {
  readonly concurrentRuns: () => number;
  readonly running: () => boolean;
  /** How often to look for runs (default 500 ms). */
  readonly pollMs?: number | undefined;
  /** How long a claimed run is this node's without renewal (default 30 s, SPEC §11). */
  readonly leaseMs?: number | undefined;
  /** Told of each run's queue wait, in ms (the metrics). */
  readonly observeStart?: ((waitMs: number) => void) | undefined;
}

interface Active {
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

export class RunEngine {
  readonly owner = randomBytes(8).toString('hex');
  private readonly active = new Map<string, Active>();
  private poll: NodeJS.Timeout | null = null;
  private renewal: NodeJS.Timeout | null = null;
  private claiming: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly deps: ExecutionDeps,
    private readonly options: EngineOptions,
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? 30_000;
  }

  async start(): Promise<void> {
    // One process per data directory (embedded): every lease left is a killed process's.
    if (!this.metadata.sharedByNodes) await this.metadata.releaseRuns(null);
    this.poll = setInterval(() => this.wake(), this.options.pollMs ?? 500);
    this.poll.unref();
    this.renewal = setInterval(() => void this.renew(), Math.max(50, this.leaseMs / 3));
    this.renewal.unref();
    this.wake();
  }

  /** Claims runs now, or right after the claim in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claimRounds().finally(() => {
      this.claiming = null;
    });
  }

  private async claimRounds(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.claim();
      } catch {
        // The store failed: the next poll tries again.
      }
    } while (this.again && !this.stopped);
  }

  private async claim(): Promise<void> {
    if (!this.options.running()) return;
    const max = this.options.concurrentRuns();
    const free = max - this.active.size;
    if (free <= 0) return;
    const now = Date.now();
    const claimed = await this.metadata.claimRuns({
      owner: this.owner,
      now,
      leaseUntil: now + this.leaseMs,
      limit: free,
      maxActive: max,
    });
    for (const run of claimed) {
      if (run.status === 'queued') {
        this.options.observeStart?.(Math.max(0, this.deps.now() - Date.parse(run.createdAt)));
      }
      const abort = new AbortController();
      const execution = new RunExecution(run, this.owner, abort, this.deps);
      const done = execution
        .execute()
        .then(
          () => undefined,
          (error: unknown) => {
            if (!(error instanceof ExecutionStopped)) throw error;
          },
        )
        .catch(() => {
          // A store failure mid-run: the lease runs out and the run is taken up again.
        })
        .finally(() => {
          this.active.delete(run.id);
          this.wake();
        });
      this.active.set(run.id, { abort, done });
    }
    if (claimed.length === free) this.again = true;
  }

  private async renew(): Promise<void> {
    const ids = [...this.active.keys()];
    if (ids.length === 0) return;
    try {
      const leases = await this.metadata.renewRuns(this.owner, ids, Date.now() + this.leaseMs);
      const held = new Set(leases.map((lease) => lease.id));
      for (const lease of leases) {
        if (lease.cancelRequested) this.active.get(lease.id)?.abort.abort('cancelled');
      }
      for (const id of ids) {
        if (!held.has(id)) this.active.get(id)?.abort.abort('lease_lost');
      }
    } catch {
      // The next renewal tries again; a lease that runs out meanwhile is another node's to take.
    }
  }

  /** A cancel request made on this node: acted on at once when the run executes here. */
  cancelled(id: string): void {
    this.active.get(id)?.abort.abort('cancelled');
  }

  /** Stops: interrupts the executions (nothing more saved) and gives the leases back. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.renewal) clearInterval(this.renewal);
    await this.claiming;
    for (const { abort } of this.active.values()) abort.abort('shutdown');
    await Promise.all([...this.active.values()].map((active) => active.done));
    await this.metadata.releaseRuns(this.owner).catch(() => undefined);
  }
}
