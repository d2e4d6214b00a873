/**
 * SPEC §5 T5, "sustained 429s from one principal". Rate refusals are recorded like their audit
 * entries — one threat record per principal per second, with the count — instead of one per
 * request, so a flood of 429s costs a write per second, not per request. A principal refused in
 * `sustainedSeconds` consecutive seconds raises one more T5 record, once per episode.
 */
import { threat } from '../domain/decision.js';
import type { RateRefusalSecond } from './ledger.js';
import type { ThreatService } from './threats.js';

/** Consecutive seconds of 429s that make a refusal episode "sustained". */
export const SUSTAINED_SECONDS = 5;

interface Streak {
  lastSecond: number;
  seconds: number;
  alerted: boolean;
}

export class RateRefusals {
  private readonly streaks = new Map<string, Streak>();

  constructor(
    private readonly threats: ThreatService,
    private readonly sustainedSeconds = SUSTAINED_SECONDS,
  ) {}

  async observe(refusals: readonly RateRefusalSecond[]): Promise<void> {
    for (const { draft, count, second } of refusals) {
      const principal = draft.decision.principal;
      const at = new Date(second * 1000).toISOString();
      const found = [threat('T5', `${count} requests refused (429) in the second from ${at}`)];
      const streak = this.streaks.get(principal.id);
      const next: Streak =
        streak && streak.lastSecond === second - 1
          ? { lastSecond: second, seconds: streak.seconds + 1, alerted: streak.alerted }
          : { lastSecond: second, seconds: 1, alerted: false };
      if (next.seconds >= this.sustainedSeconds && !next.alerted) {
        next.alerted = true;
        found.push(threat('T5', `sustained 429s: refused in ${next.seconds} consecutive seconds`));
      }
      this.streaks.set(principal.id, next);
      await this.threats.recordUncounted(draft.requestId, principal, found);
    }
    this.forgetEnded();
  }

  /** Streaks whose principal was not refused in the last two seconds are over. */
  private forgetEnded(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const [principal, streak] of this.streaks) {
      if (streak.lastSecond < now - 2) this.streaks.delete(principal);
    }
  }
}
