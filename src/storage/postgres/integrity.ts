/**
 * The PostgreSQL store's scrubs and drift baselines (migration 12) — the IntegrityStore port — and
 * its own schema as the catalogs describe it: columns (pg_attribute, read directly: the
 * information_schema view costs twice as much), indexes (pg_indexes), triggers, constraints and
 * functions of the Bucket's schema. A baseline goes in through the group commit with its audit
 * entry; a scrub's progress is a plain write.
 */
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
import type { Queryable } from './connection.js';
import { MIGRATIONS } from './migrations.js';
import type { PgWriter } from './writer.js';

/** Every object of the current schema, one row each: what drift compares (SPEC §9). */
const SCHEMA_OBJECTS = `
SELECT 'column' AS type, c.relname || '.' || a.attname AS name,
       format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' ||
       coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attnum AS definition
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index', tablename || '.' || indexname, indexdef
  FROM pg_indexes WHERE schemaname = current_schema()
UNION ALL
SELECT 'trigger', c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND n.nspname = current_schema()
UNION ALL
SELECT 'constraint', c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema()
UNION ALL
SELECT 'function', p.proname, md5(pg_get_functiondef(p.oid))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = current_schema() AND p.prokind = 'f'`;

export class PgIntegrity implements IntegrityStore {
  constructor(
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  async insertScrub(scrub: ScrubRecord): Promise<void> {
    await this.db().query(
      'INSERT INTO scrubs (id, status, started_at, finished_at, started_by, checked, problems, ' +
        'checkpoint_size, checkpoint_root) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [...scrubValues(scrub)],
    );
  }

  async saveScrub(scrub: ScrubRecord): Promise<void> {
    await this.db().query(
      'UPDATE scrubs SET status = $2, started_at = $3, finished_at = $4, started_by = $5, ' +
        'checked = $6, problems = $7, checkpoint_size = $8, checkpoint_root = $9 WHERE id = $1',
      [...scrubValues(scrub)],
    );
  }

  async getScrub(id: string): Promise<ScrubRecord | null> {
    const { rows } = await this.db().query<ScrubRow>('SELECT * FROM scrubs WHERE id = $1', [id]);
    return rows[0] ? toScrub(rows[0]) : null;
  }

  async latestScrub(status?: ScrubStatus): Promise<ScrubRecord | null> {
    const { rows } = await this.db().query<ScrubRow>(
      'SELECT * FROM scrubs WHERE $1::text IS NULL OR status = $1 ' +
        'ORDER BY started_at DESC, id DESC LIMIT 1',
      [status ?? null],
    );
    return rows[0] ? toScrub(rows[0]) : null;
  }

  async abandonScrubs(at: string, problem: ScrubProblem): Promise<number> {
    const result = await this.db().query(
      "UPDATE scrubs SET status = 'failed', finished_at = $1, problems = $2 " +
        "WHERE status = 'running'",
      [at, JSON.stringify([problem])],
    );
    return result.rowCount ?? 0;
  }

  async latestBaseline(): Promise<DriftBaseline | null> {
    const { rows } = await this.db().query<BaselineRow>(
      'SELECT * FROM drift_baselines ORDER BY sequence DESC LIMIT 1',
    );
    return rows[0] ? toBaseline(rows[0]) : null;
  }

  async insertBaseline(baseline: DriftBaseline, entry: ChangeEntry): Promise<void> {
    await this.writer.applyChange(
      async (client) => {
        await (client ?? this.db()).query(
          'INSERT INTO drift_baselines (sequence, document, signature) VALUES ($1, $2, $3)',
          [...baselineValues(baseline)],
        );
      },
      { entry, events: () => [baselineRecorded(baseline)] },
    );
  }

  async schemaDefinitions(): Promise<{ version: number; objects: SchemaObject[] }> {
    const { rows } = await this.db().query<SchemaObject>(SCHEMA_OBJECTS);
    const version = await this.db().query<{ version: number }>(
      'SELECT version FROM schema_version WHERE id = 1',
    );
    return { version: version.rows[0]?.version ?? MIGRATIONS.length, objects: rows };
  }

  async schemaStamp(): Promise<string | null> {
    // PostgreSQL has no cheap counter of schema changes: the catalogs are read each time.
    return null;
  }
}
