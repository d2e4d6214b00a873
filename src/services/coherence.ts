/**
 * Coherence across nodes (issue 6): services keep keys, the live policy, integrations and key
 * suspensions in memory. When nodes share a metadata store, each polls its change stamp and
 * reloads them when another node changed any — so a key revoked or a policy changed on one node
 * takes effect on every node within one poll and a reload (well under a second).
 */
import type { MetadataStore } from '../storage/ports.js';

export const COHERENCE_INTERVAL_MS = 250;

export class Coherence {
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  private running = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly reload: () => Promise<void>,
    private readonly intervalMs = COHERENCE_INTERVAL_MS,
  ) {}

  async start(): Promise<void> {
    this.last = await this.metadata.changeStamp();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll; a failing store is left to /health, and the next poll tries again. */
  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const stamp = await this.metadata.changeStamp();
      if (stamp !== this.last) {
        await this.reload();
        this.last = stamp;
      }
    } catch {
      // Reported by /health (the metadata backend's ping); retried at the next interval.
    } finally {
      this.running = false;
    }
  }
}
