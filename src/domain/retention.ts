/**
 * Retention rules of SPEC §8 (pinned), pure: what a retention change may do, when a tombstone may
 * still be undone, and when the sweep may purge a version's content.
 */
import type { ArtifactVersion, Retention } from './artifact.js';

/** A tombstone is restorable for 90 days (SPEC §2.2, §8). */
export const RESTORE_WINDOW_MS = 90 * 24 * 60 * 60 * 1000;

/** Whether `until` (an instant, or null = permanent) keeps the content at least as long as `than`. */
function atLeast(until: string | null, than: string | null): boolean {
  if (until === null) return true;
  if (than === null) return false;
  return Date.parse(until) >= Date.parse(than);
}

/** Why a retention change is refused, or null: compliance is never shortened (SPEC §8). */
export function retentionChangeRefusal(
  current: Retention,
  until: string | null,
): 'compliance_retention' | null {
  if (current.mode === 'compliance' && !atLeast(until, current.until)) {
    return 'compliance_retention';
  }
  return null;
}

/** Whether the change shortens the retention (governance mode: allowed, with its reason). */
export function shortens(current: Retention, until: string | null): boolean {
  return !atLeast(until, current.until);
}

/** The recorded reason a version's content was purged (its `…/versions` entry and its event). */
export type PurgeReason = 'superseded' | 'tombstone_expired' | 'retention_expired' | 'erasure';

/** What was recorded when a version's content was purged (SPEC §8 `purged`). */
export interface PurgeRecord {
  readonly at: string;
  readonly reason: PurgeReason;
  readonly auditIndex: number;
}

/** What the sweep knows of a due version's artifact. */
export interface PurgeFacts {
  /** The newest live (not tombstoned) version of the artifact. */
  readonly currentVersion: number;
  /** When the artifact was tombstoned, when its head is a tombstone; else null. */
  readonly tombstonedAt: string | null;
  /** The class's `retention.expire` in the live policy. */
  readonly classExpires: boolean;
  /** Whether an active legal hold covers the version. */
  readonly held: boolean;
}

/**
 * Why the sweep may purge `version` at `now`, or null when it must keep it (SPEC §8): retention
 * ended (`until` not null and past), no hold, and either the artifact tombstoned more than 90
 * days ago, or the version not the current one, or a class whose retention expires. The current
 * version of a tombstoned artifact is the one a restore brings back: it is current until the
 * restore window closes.
 */
export function purgeReason(
  version: ArtifactVersion,
  facts: PurgeFacts,
  now: number,
): PurgeReason | null {
  const until = version.retention.until;
  if (until === null || Date.parse(until) > now) return null;
  if (version.tombstone || version.purged || facts.held) return null;
  if (version.version < facts.currentVersion) return 'superseded';
  if (facts.tombstonedAt !== null && now - Date.parse(facts.tombstonedAt) > RESTORE_WINDOW_MS) {
    return 'tombstone_expired';
  }
  return facts.classExpires ? 'retention_expired' : null;
}
