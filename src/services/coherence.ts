/**
 * Coherence across nodes (issue 6): services keep keys, the live policy, integrations and key
 * suspensions in memory. When nodes share a metadata store, each polls its change stamp and
 * reloads them when another node changed any — so a key revoked or a policy changed on one node
 * takes effect on every node within one poll and a reload (well under a second). Where the
 * store can tell cheaply that another process committed (the embedded Bucket's workers, issue
 * 21), `freshen()` before each request makes it take effect at once: a change answered on one
 * process is seen by the next request on any other.
 */
import type { MetadataStore } from '../storage/ports.js';

export const COHERENCE_INTERVAL_MS = 250;

export class Coherence {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly othersCommitted: (() => boolean) | null;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly reload: () => Promise<void>,
    private readonly intervalMs = COHERENCE_INTERVAL_MS,
  ) {
    this.othersCommitted = metadata.watchOtherWriters?.() ?? null;
  }

  /**
   * Before a request: when another process committed since the last look, the stamp is compared
   * (and caches reloaded) before the request goes on; otherwise nothing to wait for.
   */
  freshen(): Promise<void> | undefined {
    if (!this.othersCommitted) return undefined;
    if (this.othersCommitted()) return this.check();
    return this.running ?? undefined;
  }

  async start(): Promise<void> {
    this.last = await this.metadata.changeStamp();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One poll; a failing store is left to /health, and the next poll tries again. Called while a
   * poll runs, it resolves after one more that starts once that one ends.
   */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const stamp = await this.metadata.changeStamp();
          if (stamp !== this.last) {
            await this.reload();
            this.last = stamp;
          }
        } catch {
          // Reported by /health (the metadata backend's ping); retried at the next interval.
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }
}
