/** Scale status (SPEC §2.3 bands, §7 scale-status): one reading per enforced limit. */

export type ScaleBand = 'GREEN' | 'YELLOW' | 'ORANGE' | 'RED';

export interface ScaleReading {
  readonly name: string;
  readonly limit: number;
  readonly current: number;
  /** current / limit, rounded to 4 decimals. */
  readonly ratio: number;
  readonly status: ScaleBand;
}

/** SPEC §2.3: GREEN < 50 % ≤ YELLOW < 75 % ≤ ORANGE < 100 % ≤ RED of the limit. */
export function bandOf(ratio: number): ScaleBand {
  if (ratio >= 1) return 'RED';
  if (ratio >= 0.75) return 'ORANGE';
  if (ratio >= 0.5) return 'YELLOW';
  return 'GREEN';
}

export function reading(name: string, current: number, limit: number): ScaleReading {
  const ratio = limit > 0 ? current / limit : 1;
  return {
    name,
    limit,
    current,
    ratio: Math.round(ratio * 10_000) / 10_000,
    status: bandOf(ratio),
  };
}
