/**
 * The gate's own health (SPEC §9): `degraded` while a fail-closed decision (503
 * `gate_unavailable`) happened in the last 60 s on this node, `halted` while the Bucket is; 10
 * fail-closed decisions within 60 s open a `gate_failure` incident (one at a time: none while one
 * is open).
 */
import type { Mode } from '../domain/modes.js';
import type { IncidentService } from './incidents.js';

export const FAIL_CLOSED_WINDOW_MS = 60_000;
export const FAIL_CLOSED_INCIDENT_COUNT = 10;

export type GateStatus = 'active' | 'degraded' | 'halted';

export class GateHealth {
  /** When each fail-closed decision of the window happened (ms), oldest first. */
  private failures: number[] = [];
  private opening: Promise<unknown> | null = null;

  constructor(
    private readonly incidents: Pick<IncidentService, 'openUnlessOpen'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Told of every decision the gate failed closed on, with the reason it gave. */
  failedClosed(reason: string): void {
    const now = this.now();
    this.prune(now);
    this.failures.push(now);
    if (this.failures.length < FAIL_CLOSED_INCIDENT_COUNT || this.opening) return;
    const evidence = {
      failClosed: this.failures.length,
      windowSeconds: FAIL_CLOSED_WINDOW_MS / 1000,
      since: new Date(this.failures[0] ?? now).toISOString(),
      lastReason: reason,
    };
    this.opening = this.incidents
      .openUnlessOpen('gate_failure', evidence)
      .catch(() => {
        // The store is failing too: /health says so, and the next fail-closed decision retries.
      })
      .finally(() => (this.opening = null));
  }

  /** Fail-closed decisions within the last 60 s. */
  recentFailures(): number {
    this.prune(this.now());
    return this.failures.length;
  }

  status(mode: Mode): GateStatus {
    if (mode === 'halted') return 'halted';
    return this.recentFailures() > 0 ? 'degraded' : 'active';
  }

  /** Resolves once an incident being opened is stored (tests). */
  async settled(): Promise<void> {
    await this.opening;
  }

  private prune(now: number): void {
    const from = now - FAIL_CLOSED_WINDOW_MS;
    let drop = 0;
    while (drop < this.failures.length && (this.failures[drop] ?? now) <= from) drop++;
    if (drop > 0) this.failures = this.failures.slice(drop);
  }
}
