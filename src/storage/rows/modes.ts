/** The mode's one row and incidents' rows (SPEC §9), both adapters. */
import type { Incident, IncidentKind, Mode, ModeState } from '../../domain/modes.js';

/** The one row of `bucket_mode` (SPEC §9). */
export interface ModeRow {
  mode: string;
  since: string;
  reason: string;
  by_id: string;
  incident_id: string | null;
}

export function toModeState(row: ModeRow): ModeState {
  return {
    mode: row.mode as Mode,
    since: row.since,
    reason: row.reason,
    by: row.by_id,
    incidentId: row.incident_id,
  };
}

/** A mode's values in the column order both adapters write. */
export function modeValues(state: ModeState) {
  return [state.mode, state.since, state.reason, state.by, state.incidentId] as const;
}

export interface IncidentRow {
  id: string;
  kind: string;
  status: string;
  detected_at: string;
  evidence: string;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
}

export function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    kind: row.kind as IncidentKind,
    status: row.status === 'resolved' ? 'resolved' : 'open',
    detectedAt: row.detected_at,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    resolution: row.resolution,
  };
}

/** A new incident's values in the column order both adapters insert. */
export function incidentValues(incident: Incident) {
  return [
    incident.id,
    incident.kind,
    incident.status,
    incident.detectedAt,
    JSON.stringify(incident.evidence),
  ] as const;
}
