/** The ModeStore port: the Bucket's mode and its incidents (SPEC §9). */
import type { Incident, Mode, ModeState } from '../../domain/modes.js';
import type { ChangeEntry } from './change-entry.js';

/** A switch of the mode: the state it makes and the mode it leaves (SPEC §9). */
export interface ModeSwitch {
  readonly state: ModeState;
  readonly previous: Mode;
}

/**
 * The Bucket's mode and its incidents (SPEC §9). Every change moves the change stamp (other nodes
 * reload the mode), appends its entry when given one and its events, in one transaction.
 */
export interface ModeStore {
  /** The stored mode, or null when the Bucket was never switched (it runs in `normal`). */
  currentMode(): Promise<ModeState | null>;
  /** Stores a switch, with `bucket.mode.changed`. */
  setMode(change: ModeSwitch, entry?: ChangeEntry): Promise<void>;
  /**
   * Stores a new open incident and, when given, the switch its opening makes, with
   * `bucket.incident.opened` (and `bucket.mode.changed`).
   */
  openIncident(incident: Incident, change: ModeSwitch | null, entry?: ChangeEntry): Promise<void>;
  /**
   * Resolves an open incident, with `bucket.incident.resolved`. Null when there is no such
   * incident; `resolvedNow` false (nothing changed, nothing appended) when it was resolved already.
   */
  resolveIncident(
    id: string,
    resolution: { at: string; by: string; resolution: string },
    entry?: ChangeEntry,
  ): Promise<{ incident: Incident; resolvedNow: boolean } | null>;
  /** Incidents, the newest first; only those of `status` when given. */
  listIncidents(status?: Incident['status']): Promise<Incident[]>;
}
