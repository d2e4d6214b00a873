/**
 * Modes and incidents (SPEC §9, pinned): the Bucket's mode, which classes of action each mode
 * refuses, incidents and the events both emit. Pure: the stores call the event builders inside
 * the change's own transaction.
 */
import type { ErrorCode } from './errors.js';
import type { EventDraft } from './events.js';

export const MODES = ['normal', 'read_only', 'halted'] as const;
export type Mode = (typeof MODES)[number];

/** What `GET /v1/governance/mode` answers (SPEC §9). */
export interface ModeState {
  readonly mode: Mode;
  readonly since: string;
  readonly reason: string;
  /** The key id of the owner who switched, or `system` for a switch the Bucket made itself. */
  readonly by: string;
  /** The incident whose opening switched the Bucket into this mode, if one did. */
  readonly incidentId: string | null;
}

/** Who the Bucket itself is, in a mode's `by` and on the audit entries of its own changes. */
export const SYSTEM_ID = 'system';

/** A Bucket that was never switched has run in `normal` since it was installed. */
export function initialMode(since: string): ModeState {
  return { mode: 'normal', since, reason: 'installed', by: SYSTEM_ID, incidentId: null };
}

/**
 * How an action fares in each mode — the `mode` column of the action table (gate/actions.ts):
 * - `write`: changes stored data (artifact writes, tombstones, restores; later batch, S3 writes,
 *   retention changes, sweeps, erasures, runs) — refused in `read_only` and `halted`;
 * - `read`: reads data or state — refused in `halted` only;
 * - `governance`: the owner's and oversight's governance (policy, keys, holds, integrations) —
 *   works in `read_only`, refused in `halted`;
 * - `always`: open in every mode (the mode and incident routes, audit reads).
 */
export type ModeClass = 'write' | 'read' | 'governance' | 'always';

/** The refusal an action of `modeClass` meets in `mode`, or null when the mode lets it through. */
export function modeRefusal(mode: Mode, modeClass: ModeClass): ErrorCode | null {
  if (mode === 'normal' || modeClass === 'always') return null;
  if (mode === 'halted') return 'bucket_halted';
  return modeClass === 'write' ? 'bucket_read_only' : null;
}

export const INCIDENT_KINDS = ['integrity', 'drift', 'gate_failure', 'audit'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/**
 * Kinds whose opening switches a `normal` Bucket to `read_only`, and while one is open only the
 * owner's explicit `POST /v1/governance/mode` leaves it (SPEC §9).
 */
export const READ_ONLY_KINDS: ReadonlySet<IncidentKind> = new Set(['integrity', 'drift']);

export interface Incident {
  readonly id: string;
  readonly kind: IncidentKind;
  readonly status: 'open' | 'resolved';
  readonly detectedAt: string;
  /** What was found: metadata only (ids, hashes, counts), never content or secrets. */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolution: string | null;
}

/** How strict a mode is: a switch the Bucket makes itself only ever goes up. */
export function strictness(mode: Mode): number {
  return MODES.indexOf(mode);
}

export function modeChanged(state: ModeState, previous: Mode): EventDraft {
  return {
    type: 'bucket.mode.changed',
    subject: `mode/${state.mode}`,
    product: null,
    data: {
      mode: state.mode,
      previous,
      since: state.since,
      reason: state.reason,
      by: state.by,
      incidentId: state.incidentId,
    },
  };
}

export function incidentEvent(incident: Incident): EventDraft {
  const verb = incident.status === 'open' ? 'opened' : 'resolved';
  return {
    type: `bucket.incident.${verb}`,
    subject: incident.id,
    product: null,
    // The evidence stays in the incident (like a threat's): owner, executor and auditor read it.
    data: {
      id: incident.id,
      kind: incident.kind,
      status: incident.status,
      detectedAt: incident.detectedAt,
      ...(incident.status === 'resolved'
        ? { resolvedAt: incident.resolvedAt, resolvedBy: incident.resolvedBy }
        : {}),
    },
  };
}

/** The events of an incident's opening: its own, and the switch it made, if any. */
export function incidentOpenedEvents(
  incident: Incident,
  change: { readonly state: ModeState; readonly previous: Mode } | null,
): EventDraft[] {
  return [incidentEvent(incident), ...(change ? [modeChanged(change.state, change.previous)] : [])];
}
