/** Artifacts and versions (SPEC §3): pure rules, no I/O. */
import type { RetentionRule } from './policy.js';
import type { PurgeRecord } from './retention.js';

export type RetentionMode = 'compliance' | 'governance' | 'none';

export interface Retention {
  readonly mode: RetentionMode;
  readonly until: string | null;
}

/** One immutable version of an artifact as the metadata store keeps it. */
export interface ArtifactVersion {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly sha256: string;
  readonly size: number;
  readonly contentType: string;
  readonly meta: Record<string, string>;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly retention: Retention;
  readonly tombstone: boolean;
  /** Where the bytes are: inline in the metadata store, or in the blob store. */
  readonly storage: 'inline' | 'blob' | 'none';
  /** Set once the retention sweep removed the content (SPEC §8); the row stays. */
  readonly purged?: PurgeRecord;
  /**
   * The data subject the write named (`x-bucket-meta-subject`, SPEC §8), held in the version's
   * own indexed column; absent when it named none.
   */
  readonly subject?: string;
  /**
   * Set when the content is sealed under its subject's key (SPEC §8, domain/sealed-segments.ts):
   * the key's id and the content's own id (its blob's address).
   */
  readonly sealed?: SealedRef;
}

/**
 * Where a blob-stored version's bytes are in the blob store: its SHA-256, or a sealed content's
 * own id (SPEC §8: never shared, never found by the plaintext's digest).
 */
export function blobAddress(version: Pick<ArtifactVersion, 'sha256' | 'sealed'>): string {
  return version.sealed?.contentId ?? version.sha256;
}

/** Which subject key seals a content, and the content's id (64 hex digits). */
export interface SealedRef {
  readonly keyId: string;
  readonly contentId: string;
}

export interface ArtifactKey {
  readonly product: string;
  readonly class: string;
  readonly name: string;
}

/** Versions are numbered 1, 2, … as 32-bit integers (the stores' columns): no larger one exists. */
export const MAX_VERSION = 2_147_483_647;

/** Whether `version` can name a version at all (a larger one is no version, not a store error). */
export function isVersionNumber(version: number): boolean {
  return Number.isInteger(version) && version >= 1 && version <= MAX_VERSION;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~/-]{0,511}$/;
const RESERVED_LAST_SEGMENTS = new Set(['versions', 'restore', 'retention']);

/** Why a name is invalid, or null when it is valid (SPEC §2.2 artifact names). */
export function nameProblem(name: string): string | null {
  if (Buffer.byteLength(name, 'utf8') > 512) return 'the name is longer than 512 bytes';
  if (!NAME_PATTERN.test(name)) {
    return 'the name must start with a letter or digit and use only A-Z a-z 0-9 . _ ~ / -';
  }
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment === '') return 'the name has an empty path segment';
    if (segment === '.' || segment === '..') return `the name has a "${segment}" segment`;
  }
  const last = segments[segments.length - 1] ?? '';
  if (RESERVED_LAST_SEGMENTS.has(last)) {
    return `the last segment may not be "${last}" (a sub-resource)`;
  }
  return null;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/;

/**
 * Adds an ISO-8601 date duration (years, months, days) to a timestamp. Years and months keep the
 * day of the month, clamped to the target month's last day (2028-02-29 + P1Y = 2029-02-28).
 */
export function addDuration(fromIso: string, duration: string): string {
  const match = DURATION.exec(duration);
  if (!match || duration === 'P') throw new Error(`unsupported duration ${duration}`);
  const date = new Date(fromIso);
  const [, years, months, days] = match;
  const totalMonths = date.getUTCMonth() + Number(years ?? 0) * 12 + Number(months ?? 0);
  const year = date.getUTCFullYear() + Math.floor(totalMonths / 12);
  const month = totalMonths % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  date.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  if (days) date.setUTCDate(date.getUTCDate() + Number(days));
  return date.toISOString();
}

export function isDuration(value: string): boolean {
  return value !== 'P' && DURATION.test(value);
}

/** The retention a version receives from its class at write time (SPEC §2.2). */
export function retentionFor(rule: RetentionRule, createdAt: string): Retention {
  return {
    mode: rule.mode,
    until: rule.period === null ? null : addDuration(createdAt, rule.period),
  };
}
