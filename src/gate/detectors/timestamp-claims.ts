/**
 * T7 — client timestamps (SPEC §5): `timestamp` or `created_at` in `x-bucket-meta-*` headers or
 * top-level JSON members, older than 300 s or in the future. They are recorded as claims, never
 * taken as facts (the Bucket's own `createdAt` is what counts), and never deny by themselves.
 */
import { threat, type Threat } from '../../domain/decision.js';
import { isPlainObject } from './walk.js';

export const MAX_CLAIM_AGE_MS = 300_000;
/** Clock skew tolerated before a timestamp counts as "in the future". */
export const FUTURE_SKEW_MS = 5_000;

export const META_TIMESTAMP_KEYS = ['timestamp', 'created_at'] as const;
export const CONTENT_TIMESTAMP_KEYS = ['timestamp', 'created_at', 'createdAt'] as const;

const ISO_DATE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const EPOCH = /^\d{1,16}(?:\.\d+)?$/;

/** Milliseconds since the epoch of a claimed time (ISO 8601 or epoch seconds/ms), or null. */
export function claimedTime(value: unknown): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    // Below 10^11 reads as seconds (until the year 5138), above as milliseconds.
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (EPOCH.test(text)) return claimedTime(Number(text));
  if (!ISO_DATE.test(text)) return null;
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : time;
}

function judge(where: string, value: unknown, now: number): Threat[] {
  const time = claimedTime(value);
  if (time === null) return [];
  if (time > now + FUTURE_SKEW_MS) {
    return [
      threat('T7', `${where} claims a time ${Math.round((time - now) / 1000)} s in the future`),
    ];
  }
  if (now - time > MAX_CLAIM_AGE_MS) {
    return [threat('T7', `${where} claims a time ${Math.round((now - time) / 1000)} s old`)];
  }
  return [];
}

export function detectMetaTimestamps(
  meta: Readonly<Record<string, string>>,
  now: number,
): Threat[] {
  return META_TIMESTAMP_KEYS.flatMap((key) =>
    meta[key] === undefined ? [] : judge(`x-bucket-meta-${key}`, meta[key], now),
  );
}

export function detectContentTimestamps(json: unknown, now: number): Threat[] {
  if (!isPlainObject(json)) return [];
  return CONTENT_TIMESTAMP_KEYS.flatMap((key) =>
    Object.hasOwn(json, key) ? judge(`content member ${key}`, json[key], now) : [],
  );
}
