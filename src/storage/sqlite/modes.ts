/**
 * The embedded store's mode and incidents (migration 10) — the ModeStore port. Changes go through
 * SqliteChanges (the change stamp, the entry, the events, the wait for the disk).
 */
import type Database from 'better-sqlite3';
import {
  incidentEvent,
  incidentOpenedEvents,
  modeChanged,
  type Incident,
} from '../../domain/modes.js';
import type { ChangeEntry, ModeStore, ModeSwitch } from '../ports.js';
import {
  incidentValues,
  modeValues,
  toIncident,
  toModeState,
  type IncidentRow,
  type ModeRow,
} from '../rows.js';
import type { SqliteChanges } from './changes.js';

export class SqliteModes implements ModeStore {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      mode: db.prepare<[], ModeRow>('SELECT * FROM bucket_mode WHERE id = 1'),
      setMode: db.prepare(
        'INSERT INTO bucket_mode (id, mode, since, reason, by_id, incident_id) ' +
          'VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, ' +
          'since = excluded.since, reason = excluded.reason, by_id = excluded.by_id, ' +
          'incident_id = excluded.incident_id',
      ),
      insertIncident: db.prepare(
        'INSERT INTO incidents (id, kind, status, detected_at, evidence) VALUES (?, ?, ?, ?, ?)',
      ),
      incident: db.prepare<[string], IncidentRow>('SELECT * FROM incidents WHERE id = ?'),
      resolve: db.prepare(
        "UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ?, " +
          "resolution = ? WHERE id = ? AND status = 'open'",
      ),
      all: db.prepare<[], IncidentRow>('SELECT * FROM incidents ORDER BY detected_at DESC, id'),
      byStatus: db.prepare<[string], IncidentRow>(
        'SELECT * FROM incidents WHERE status = ? ORDER BY detected_at DESC, id',
      ),
    };
  }

  async currentMode() {
    const row = this.statements.mode.get();
    return row ? toModeState(row) : null;
  }

  async setMode(change: ModeSwitch, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(() => this.statements.setMode.run(...modeValues(change.state)), {
      entry,
      events: () => [modeChanged(change.state, change.previous)],
    });
  }

  async openIncident(
    incident: Incident,
    change: ModeSwitch | null,
    entry?: ChangeEntry,
  ): Promise<void> {
    await this.changes.applyChange(
      () => {
        this.statements.insertIncident.run(...incidentValues(incident));
        if (change) this.statements.setMode.run(...modeValues(change.state));
      },
      {
        entry,
        events: () => incidentOpenedEvents(incident, change),
      },
    );
  }

  async resolveIncident(
    id: string,
    resolution: { at: string; by: string; resolution: string },
    entry?: ChangeEntry,
  ) {
    return this.changes.applyChange(
      () => {
        const resolvedNow =
          this.statements.resolve.run(resolution.at, resolution.by, resolution.resolution, id)
            .changes > 0;
        const row = this.statements.incident.get(id);
        return row ? { incident: toIncident(row), resolvedNow } : null;
      },
      {
        entry,
        changed: (result) => result?.resolvedNow === true,
        events: (result) => (result ? [incidentEvent(result.incident)] : []),
      },
    );
  }

  async listIncidents(status?: Incident['status']): Promise<Incident[]> {
    const rows =
      status === undefined ? this.statements.all.all() : this.statements.byStatus.all(status);
    return rows.map(toIncident);
  }
}
