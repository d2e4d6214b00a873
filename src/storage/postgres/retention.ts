/**
 * The PostgreSQL store's retention (migrations 3 and 4): legal holds, retention changes, the
 * sweep's candidates and purges — the RetentionStore port. Hold changes move the change stamp in
 * their statement, so every node's hold cache follows (services/coherence.ts).
 */
import type pg from 'pg';
import type { ArtifactKey, ArtifactVersion, Retention } from '../../domain/artifact.js';
import { artifactPurged, holdEvent } from '../../domain/events.js';
import type { LegalHold } from '../../domain/holds.js';
import type { PurgeReason } from '../../domain/retention.js';
import type { ChangeEntry, DueCursor, HoldLift, RetentionStore } from '../ports.js';
import { holdValues, toHold, toVersion, VERSION_COLUMNS, type HoldRow } from '../rows.js';
import type { VersionRow } from '../rows.js';
import { BUMP } from './change-stamp.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

const VERSION_WHERE = 'product = $3 AND class = $4 AND name = $5 AND version = $6';

export class PgRetention implements RetentionStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  async insertHold(hold: LegalHold, entry?: ChangeEntry): Promise<void> {
    await this.writer.applyChange(
      async (client) => {
        await (client ?? this.pool).query(
          BUMP +
            'INSERT INTO legal_holds (id, scope, case_ref, reason, placed_at, placed_by, ' +
            'lifted_at, lifted_by, lift_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          [...holdValues(hold)],
        );
      },
      { entry, events: () => [holdEvent('placed', hold)] },
    );
  }

  liftHold(id: string, lift: HoldLift, entry?: ChangeEntry): Promise<LegalHold | null> {
    return this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<HoldRow>(
          'WITH lifted AS (UPDATE legal_holds SET lifted_at = $1, lifted_by = $2, lift_reason = $3 ' +
            'WHERE id = $4 AND lifted_at IS NULL RETURNING *), ' +
            'bump AS (UPDATE change_stamp SET value = value + 1 WHERE id = 1 ' +
            'AND EXISTS (SELECT 1 FROM lifted)) SELECT * FROM lifted',
          [lift.at, lift.by, lift.reason, id],
        );
        return rows[0] ? toHold(rows[0]) : null;
      },
      {
        entry,
        changed: (hold) => hold !== null,
        events: (hold) => (hold ? [holdEvent('lifted', hold)] : []),
      },
    );
  }

  async listHolds(): Promise<LegalHold[]> {
    const { rows } = await this.db().query<HoldRow>(
      'SELECT * FROM legal_holds ORDER BY placed_at, id',
    );
    return rows.map(toHold);
  }

  setRetention(
    key: ArtifactKey,
    version: number,
    change: { readonly previous: Retention; readonly next: Retention },
    entry?: ChangeEntry,
  ): Promise<ArtifactVersion | null> {
    return this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<VersionRow>(
          'UPDATE versions SET retention_mode = $1, retention_until = $2 ' +
            `WHERE ${VERSION_WHERE} AND retention_mode = $7 ` +
            `AND retention_until IS NOT DISTINCT FROM $8 RETURNING ${VERSION_COLUMNS}`,
          [
            change.next.mode,
            change.next.until,
            ...versionParams(key, version),
            change.previous.mode,
            change.previous.until,
          ],
        );
        return rows[0] ? toVersion(rows[0]) : null;
      },
      { entry, changed: (found) => found !== null },
    );
  }

  async retentionDue(
    now: string,
    after: DueCursor | null,
    limit: number,
  ): Promise<ArtifactVersion[]> {
    const from = after ?? { until: '', product: '', class: '', name: '', version: 0 };
    const { rows } = await this.db().query<VersionRow>({
      name: 'retention_due',
      text:
        `SELECT ${VERSION_COLUMNS} FROM versions ` +
        "WHERE storage <> 'none' AND retention_until IS NOT NULL AND retention_until <= $1 " +
        'AND (retention_until, product, class, name, version) > ($2, $3, $4, $5, $6) ' +
        'ORDER BY retention_until, product, class, name, version LIMIT $7',
      values: [now, from.until, from.product, from.class, from.name, from.version, limit],
    });
    return rows.map(toVersion);
  }

  async purgeVersion(
    key: ArtifactKey,
    version: number,
    purge: {
      readonly at: string;
      readonly reason: PurgeReason;
      readonly held: (holds: readonly LegalHold[]) => boolean;
    },
    entry: ChangeEntry,
  ): Promise<ArtifactVersion | null> {
    const purged = await this.writer.applyChange(
      async (client) => {
        const db = client ?? this.pool;
        const active = await db.query<HoldRow>('SELECT * FROM legal_holds WHERE lifted_at IS NULL');
        if (purge.held(active.rows.map(toHold))) return null;
        const { rows } = await db.query<VersionRow>(
          "UPDATE versions SET storage = 'none', inline_content = NULL, purged_at = $1, " +
            `purge_reason = $2 WHERE ${VERSION_WHERE} AND storage <> 'none' ` +
            'AND purged_at IS NULL AND retention_until IS NOT NULL AND retention_until <= $1 ' +
            `RETURNING ${VERSION_COLUMNS}`,
          [purge.at, purge.reason, ...versionParams(key, version)],
        );
        return rows[0] ? toVersion(rows[0]) : null;
      },
      {
        entry,
        changed: (found) => found !== null,
        events: (found) => (found ? [artifactPurged(found, purge.reason)] : []),
        afterEntry: async (client, _found, receipt) => {
          await client.query(
            'UPDATE versions SET purge_audit_index = $1 ' +
              'WHERE product = $2 AND class = $3 AND name = $4 AND version = $5',
            [receipt.leafIndex, ...versionParams(key, version)],
          );
        },
      },
    );
    const receipt = entry.receipt;
    return purged && receipt
      ? { ...purged, purged: { at: purge.at, reason: purge.reason, auditIndex: receipt.leafIndex } }
      : purged;
  }

  async exclusively<T>(lease: string, fn: () => Promise<T>): Promise<T | null> {
    // A session-level advisory lock on a connection held for the run: another node's attempt
    // answers at once, and a node that dies loses it with its connection.
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
        [lease],
      );
      if (!rows[0]?.locked) return null;
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lease]);
      }
    } finally {
      client.release();
    }
  }
}

function versionParams(key: ArtifactKey, version: number) {
  return [key.product, key.class, key.name, version] as const;
}
