/**
 * The PostgreSQL store's mode and incidents — the ModeStore port. Every change runs in the group
 * commit's transaction with its entry and events, and moves the change stamp, so that every node
 * reloads the mode within one coherence poll (services/coherence.ts).
 */
import type pg from 'pg';
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
import { BUMP } from './change-stamp.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

const SET_MODE =
  BUMP +
  'INSERT INTO bucket_mode (id, mode, since, reason, by_id, incident_id) ' +
  'VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, ' +
  'since = excluded.since, reason = excluded.reason, by_id = excluded.by_id, ' +
  'incident_id = excluded.incident_id';

export class PgModes implements ModeStore {
  constructor(
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  async currentMode() {
    const { rows } = await this.db().query<ModeRow>('SELECT * FROM bucket_mode WHERE id = 1');
    return rows[0] ? toModeState(rows[0]) : null;
  }

  async setMode(change: ModeSwitch, entry?: ChangeEntry): Promise<void> {
    await this.writer.applyChange(
      async (client) => {
        await (client ?? this.db()).query(SET_MODE, [...modeValues(change.state)]);
      },
      { entry, events: () => [modeChanged(change.state, change.previous)] },
    );
  }

  async openIncident(
    incident: Incident,
    change: ModeSwitch | null,
    entry?: ChangeEntry,
  ): Promise<void> {
    await this.writer.applyChange(
      async (client) => {
        const db = client ?? this.db();
        await db.query(
          BUMP +
            'INSERT INTO incidents (id, kind, status, detected_at, evidence) ' +
            'VALUES ($1, $2, $3, $4, $5)',
          [...incidentValues(incident)],
        );
        if (change) await db.query(SET_MODE, [...modeValues(change.state)]);
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
    return this.writer.applyChange(
      async (client?: pg.PoolClient) => {
        const db = client ?? this.db();
        const updated = await db.query<IncidentRow>(
          BUMP +
            "UPDATE incidents SET status = 'resolved', resolved_at = $1, resolved_by = $2, " +
            "resolution = $3 WHERE id = $4 AND status = 'open' RETURNING *",
          [resolution.at, resolution.by, resolution.resolution, id],
        );
        if (updated.rows[0]) return { incident: toIncident(updated.rows[0]), resolvedNow: true };
        const found = await db.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
        return found.rows[0] ? { incident: toIncident(found.rows[0]), resolvedNow: false } : null;
      },
      {
        entry,
        changed: (result) => result?.resolvedNow === true,
        events: (result) => (result?.resolvedNow ? [incidentEvent(result.incident)] : []),
      },
    );
  }

  async listIncidents(status?: Incident['status']): Promise<Incident[]> {
    const { rows } = await this.db().query<IncidentRow>(
      'SELECT * FROM incidents WHERE $1::text IS NULL OR status = $1 ' +
        'ORDER BY detected_at DESC, id',
      [status ?? null],
    );
    return rows.map(toIncident);
  }
}
