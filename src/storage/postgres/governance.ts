/**
 * The PostgreSQL store's governance: integrations, threat records and key suspensions — the
 * GovernanceStore port. Every change of an integration or a suspension moves the change stamp in
 * the same statement or transaction (change-stamp.ts).
 */
import type pg from 'pg';
import {
  integrationEvent,
  integrationRevocation,
  keyReinstated,
  keySuspended,
  threatDetected,
} from '../../domain/events.js';
import type { IntegrationRecord } from '../../domain/integration.js';
import type { KeyRecord } from '../../domain/principal.js';
import type { KeySuspension, ThreatRecord } from '../../domain/threats.js';
import type { ChangeEntry, GovernanceStore } from '../ports.js';
import {
  integrationValues,
  toKey,
  toIntegration,
  toThreat,
  type KeyRow,
  type IntegrationRow,
  type ThreatRow,
} from '../rows.js';
import { BUMP } from './change-stamp.js';
import { inTransaction, type Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

export class PgGovernance implements GovernanceStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  insertIntegration(record: IntegrationRecord, entry?: ChangeEntry): Promise<void> {
    return this.writer.applyChange(
      async (client) => {
        await (client ?? this.pool).query(
          BUMP +
            'INSERT INTO integrations (id, type, product, classes, data_schema, approved_at, ' +
            'approved_by, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [...integrationValues(record)],
        );
      },
      { entry, events: () => [integrationEvent('approved', record)] },
    );
  }

  async getIntegration(product: string, id: string): Promise<IntegrationRecord | null> {
    const { rows } = await this.db().query<IntegrationRow>(
      'SELECT * FROM integrations WHERE product = $1 AND id = $2',
      [product, id],
    );
    return rows[0] ? toIntegration(rows[0]) : null;
  }

  async listIntegrations(): Promise<IntegrationRecord[]> {
    const { rows } = await this.db().query<IntegrationRow>(
      'SELECT * FROM integrations ORDER BY approved_at, id',
    );
    return rows.map(toIntegration);
  }

  revokeIntegration(
    product: string,
    id: string,
    at: string,
    entry?: ChangeEntry,
  ): Promise<{ integration: IntegrationRecord; revokedKeys: KeyRecord[] } | null> {
    const revoke = async (client: pg.PoolClient) => {
      const found = await client.query<IntegrationRow>(
        'UPDATE integrations SET revoked_at = coalesce(revoked_at, $1) ' +
          'WHERE product = $2 AND id = $3 RETURNING *',
        [at, product, id],
      );
      const row = found.rows[0];
      if (!row) return null;
      // The stamp moves last (an unreferenced CTE runs after the main statement): rows, then the
      // stamp, the order of every other change, so that two changes cannot deadlock.
      const keys = await client.query<KeyRow>(
        'WITH bump AS (UPDATE change_stamp SET value = value + 1 WHERE id = 1), ' +
          'revoked AS (UPDATE keys SET revoked_at = $1 WHERE product = $2 AND integration_id = $3 ' +
          'AND revoked_at IS NULL RETURNING *) SELECT * FROM revoked ORDER BY created_at, id',
        [at, product, id],
      );
      const revokedKeys = keys.rows.map(toKey);
      return { integration: toIntegration(row), revokedKeys };
    };
    // In the group commit's transaction with an entry, else in one of its own.
    return this.writer.applyChange(
      (within) => (within ? revoke(within) : inTransaction(this.pool, revoke)),
      {
        entry,
        changed: (revoked) => revoked !== null,
        events: (revoked) => integrationRevocation(revoked, at),
      },
    );
  }

  async insertThreatRecords(records: readonly ThreatRecord[]): Promise<void> {
    if (records.length === 0) return;
    const column = <T>(pick: (record: ThreatRecord) => T) => records.map(pick);
    const insert = (client?: pg.PoolClient) =>
      (client ?? this.pool).query(
        'INSERT INTO threat_records (at, request_id, principal_id, principal_kind, product, ' +
          'threat_id, severity, evidence, counted) SELECT * FROM unnest($1::text[], $2::text[], ' +
          '$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[])',
        [
          column((r) => r.at),
          column((r) => r.requestId),
          column((r) => r.principalId),
          column((r) => r.principalKind),
          column((r) => r.product),
          column((r) => r.threatId),
          column((r) => r.severity),
          column((r) => r.evidence),
          column((r) => r.counted),
        ],
      );
    // In the group commit's transaction, which numbers the detections' events.
    await this.writer.applyChange(insert, { events: () => records.map(threatDetected) });
  }

  async countCriticalRequests(principalId: string, since: string): Promise<number> {
    const { rows } = await this.db().query<{ n: number }>(
      'SELECT count(DISTINCT request_id) AS n FROM threat_records WHERE principal_id = $1 ' +
        "AND severity = 'CRITICAL' AND counted AND at >= $2",
      [principalId, since],
    );
    return rows[0]?.n ?? 0;
  }

  async threatCounts(since: string | null): Promise<Record<string, number>> {
    const { rows } = await this.db().query<{ threat_id: string; n: number }>(
      'SELECT threat_id, count(*) AS n FROM threat_records WHERE $1::text IS NULL OR at >= $1 ' +
        'GROUP BY threat_id',
      [since],
    );
    return Object.fromEntries(rows.map((row) => [row.threat_id, row.n]));
  }

  async recentThreats(limit: number): Promise<ThreatRecord[]> {
    const { rows } = await this.db().query<ThreatRow>(
      'SELECT * FROM threat_records ORDER BY seq DESC LIMIT $1',
      [limit],
    );
    return rows.map(toThreat);
  }

  async suspendKey(suspension: KeySuspension): Promise<void> {
    await this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<{ product: string | null }>(
          BUMP +
            'INSERT INTO key_suspensions (key_id, suspended_at, reason) VALUES ($1, $2, $3) ' +
            'ON CONFLICT (key_id) DO NOTHING ' +
            'RETURNING (SELECT product FROM keys WHERE id = key_id) AS product',
          [suspension.keyId, suspension.suspendedAt, suspension.reason],
        );
        return rows[0] ?? null;
      },
      {
        changed: (inserted) => inserted !== null,
        events: (inserted) => (inserted ? [keySuspended(suspension, inserted.product)] : []),
      },
    );
  }

  reinstateKey(keyId: string, entry?: ChangeEntry): Promise<boolean> {
    return this.writer
      .applyChange(
        async (client) => {
          const { rows } = await (client ?? this.pool).query<{ product: string | null }>(
            BUMP +
              'DELETE FROM key_suspensions WHERE key_id = $1 ' +
              'RETURNING (SELECT product FROM keys WHERE id = key_id) AS product',
            [keyId],
          );
          return rows[0] ?? null;
        },
        {
          entry,
          changed: (lifted) => lifted !== null,
          events: (lifted) => (lifted ? [keyReinstated(keyId, lifted.product)] : []),
        },
      )
      .then((lifted) => lifted !== null);
  }

  async listSuspensions(): Promise<KeySuspension[]> {
    const { rows } = await this.db().query<{
      key_id: string;
      suspended_at: string;
      reason: string;
    }>('SELECT * FROM key_suspensions ORDER BY key_id');
    return rows.map((row) => ({
      keyId: row.key_id,
      suspendedAt: row.suspended_at,
      reason: row.reason,
    }));
  }
}
