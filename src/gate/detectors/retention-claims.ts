/**
 * T6 — a retention claim shorter than the class's retention (SPEC §5): `x-bucket-meta-retention`
 * holding an ISO-8601 duration that ends before the retention the class gives every version.
 * The class retention is what applies; a client asking for less is a legal ambiguity.
 */
import { threat, type Threat } from '../../domain/decision.js';
import type { RetentionRule } from '../../domain/policy.js';

const ISO_DURATION =
  /^P(?!$)(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})W)?(?:(\d{1,9})D)?(?:T(?=\d)(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:\.\d{1,9})?)S)?)?$/;

const DAY = 86_400;
/** Seconds per unit, with the Gregorian mean year and month so that P12M equals P1Y. */
const UNIT_SECONDS = [365.2425 * DAY, 30.436875 * DAY, 7 * DAY, DAY, 3600, 60, 1];

/** The length of an ISO-8601 duration in seconds, or null when `text` is not one. */
export function durationSeconds(text: string): number | null {
  const match = ISO_DURATION.exec(text.trim().toUpperCase());
  if (!match) return null;
  return UNIT_SECONDS.reduce((sum, unit, i) => sum + Number(match[i + 1] ?? 0) * unit, 0);
}

/** The class retention in seconds: Infinity when permanent, 0 when the class keeps nothing. */
export function classRetentionSeconds(rule: RetentionRule): number {
  if (rule.mode === 'none') return 0;
  if (rule.period === null) return Infinity;
  return durationSeconds(rule.period) ?? Infinity;
}

export function detectRetentionClaim(
  meta: Readonly<Record<string, string>>,
  rule: RetentionRule,
): Threat[] {
  const claim = meta['retention'];
  if (claim === undefined) return [];
  const claimed = durationSeconds(claim);
  if (claimed === null || claimed >= classRetentionSeconds(rule)) return [];
  const retention = rule.period === null ? 'permanent' : rule.period;
  return [
    threat(
      'T6',
      `x-bucket-meta-retention ${claim} is shorter than the class retention (${retention}, ${rule.mode})`,
    ),
  ];
}
