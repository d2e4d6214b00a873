/**
 * The embedded store's scrubs and drift baselines (migration 15) — the IntegrityStore port — and
 * its own schema as `sqlite_master` holds it. A scrub's progress is operational state: written
 * durably, never stamped; a baseline goes in with its audit entry.
 */
import type Database from 'better-sqlite3';
import { baselineRecorded, type DriftBaseline, type SchemaObject } from '../../domain/drift.js';
import type { ScrubProblem, ScrubRecord, ScrubStatus } from '../../domain/scrub.js';
import type { ChangeEntry, IntegrityStore } from '../ports.js';
import {
  baselineValues,
  scrubValues,
  toBaseline,
  toScrub,
  type BaselineRow,
  type ScrubRow,
} from '../rows.js';
import type { SqliteChanges } from './changes.js';

interface MasterRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

export class SqliteIntegrity implements IntegrityStore {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      insert: db.prepare(
        'INSERT INTO scrubs (id, status, started_at, finished_at, started_by, checked, problems, ' +
          'checkpoint_size, checkpoint_root) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      save: db.prepare(
        'UPDATE scrubs SET status = ?, started_at = ?, finished_at = ?, started_by = ?, ' +
          'checked = ?, problems = ?, checkpoint_size = ?, checkpoint_root = ? WHERE id = ?',
      ),
      get: db.prepare<[string], ScrubRow>('SELECT * FROM scrubs WHERE id = ?'),
      latest: db.prepare<[], ScrubRow>(
        'SELECT * FROM scrubs ORDER BY started_at DESC, id DESC LIMIT 1',
      ),
      latestOf: db.prepare<[string], ScrubRow>(
        'SELECT * FROM scrubs WHERE status = ? ORDER BY started_at DESC, id DESC LIMIT 1',
      ),
      abandon: db.prepare(
        "UPDATE scrubs SET status = 'failed', finished_at = ?, problems = ? " +
          "WHERE status = 'running'",
      ),
      baseline: db.prepare<[], BaselineRow>(
        'SELECT * FROM drift_baselines ORDER BY sequence DESC LIMIT 1',
      ),
      insertBaseline: db.prepare(
        'INSERT INTO drift_baselines (sequence, document, signature) VALUES (?, ?, ?)',
      ),
      master: db.prepare<[], MasterRow>(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' " +
          "ESCAPE '\\'",
      ),
    };
  }

  async insertScrub(scrub: ScrubRecord): Promise<void> {
    await this.changes.applyChange(() => this.statements.insert.run(...scrubValues(scrub)), {
      stamp: false,
    });
  }

  async saveScrub(scrub: ScrubRecord): Promise<void> {
    const [id, ...rest] = scrubValues(scrub);
    await this.changes.applyChange(() => this.statements.save.run(...rest, id), {
      stamp: false,
    });
  }

  async getScrub(id: string): Promise<ScrubRecord | null> {
    const row = this.statements.get.get(id);
    return row ? toScrub(row) : null;
  }

  async latestScrub(status?: ScrubStatus): Promise<ScrubRecord | null> {
    const row =
      status === undefined ? this.statements.latest.get() : this.statements.latestOf.get(status);
    return row ? toScrub(row) : null;
  }

  async abandonScrubs(at: string, problem: ScrubProblem): Promise<number> {
    const result = await this.changes.applyChange(
      () => this.statements.abandon.run(at, JSON.stringify([problem])),
      { stamp: false },
    );
    return result.changes;
  }

  async latestBaseline(): Promise<DriftBaseline | null> {
    const row = this.statements.baseline.get();
    return row ? toBaseline(row) : null;
  }

  async insertBaseline(baseline: DriftBaseline, entry: ChangeEntry): Promise<void> {
    await this.changes.applyChange(
      () => this.statements.insertBaseline.run(...baselineValues(baseline)),
      { entry, stamp: false, events: () => [baselineRecorded(baseline)] },
    );
  }

  async schemaDefinitions(): Promise<{ version: number; objects: SchemaObject[] }> {
    const objects = this.statements.master.all().map((row) => ({
      type: row.type,
      name: `${row.tbl_name}.${row.name}`,
      definition: row.sql ?? '',
    }));
    const version = this.db.pragma('user_version', { simple: true }) as number;
    return { version, objects };
  }

  async schemaStamp(): Promise<string | null> {
    return String(this.db.pragma('schema_version', { simple: true }));
  }
}
