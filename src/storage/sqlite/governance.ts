/**
 * The embedded store's governance (the tables of migration 2): integrations, threat records and
 * key suspensions — the GovernanceStore port. Changes go through SqliteChanges (the change stamp,
 * the allow entry, the wait for the disk).
 */
import type Database from 'better-sqlite3';
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
  toIntegration,
  toThreat,
  type IntegrationRow,
  type ThreatRow,
} from '../rows.js';
import type { SqliteChanges } from './changes.js';

interface SuspensionRow {
  key_id: string;
  suspended_at: string;
  reason: string;
}

export class SqliteGovernance implements GovernanceStore {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly changes: SqliteChanges,
    /** A key as it stands inside the caller's transaction. */
    private readonly keyById: (id: string) => KeyRecord | null,
  ) {
    this.statements = {
      insertIntegration: db.prepare(
        'INSERT INTO integrations (id, type, product, classes, data_schema, approved_at, approved_by, revoked_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      integration: db.prepare<[string, string], IntegrationRow>(
        'SELECT * FROM integrations WHERE product = ? AND id = ?',
      ),
      integrations: db.prepare<[], IntegrationRow>(
        'SELECT * FROM integrations ORDER BY approved_at, id',
      ),
      revokeIntegration: db.prepare(
        'UPDATE integrations SET revoked_at = coalesce(revoked_at, ?) WHERE product = ? AND id = ?',
      ),
      activeKeysOf: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM keys WHERE product = ? AND integration_id = ? AND revoked_at IS NULL',
      ),
      revokeKeysOf: db.prepare(
        'UPDATE keys SET revoked_at = ? WHERE product = ? AND integration_id = ? ' +
          'AND revoked_at IS NULL',
      ),
      insertThreat: db.prepare(
        'INSERT INTO threat_records (at, request_id, principal_id, principal_kind, product, threat_id, ' +
          'severity, evidence, counted) VALUES (@at, @requestId, @principalId, @principalKind, ' +
          '@product, @threatId, @severity, @evidence, @counted)',
      ),
      criticalRequests: db.prepare<[string, string], { n: number }>(
        "SELECT count(DISTINCT request_id) AS n FROM threat_records WHERE principal_id = ? AND severity = 'CRITICAL' " +
          'AND counted = 1 AND at >= ?',
      ),
      countsSince: db.prepare<[string], { threat_id: string; n: number }>(
        'SELECT threat_id, count(*) AS n FROM threat_records WHERE at >= ? GROUP BY threat_id',
      ),
      countsEver: db.prepare<[], { threat_id: string; n: number }>(
        'SELECT threat_id, count(*) AS n FROM threat_records GROUP BY threat_id',
      ),
      recent: db.prepare<[number], ThreatRow>(
        'SELECT * FROM threat_records ORDER BY seq DESC LIMIT ?',
      ),
      suspend: db.prepare(
        'INSERT OR IGNORE INTO key_suspensions (key_id, suspended_at, reason) VALUES (?, ?, ?)',
      ),
      reinstate: db.prepare('DELETE FROM key_suspensions WHERE key_id = ?'),
      suspensions: db.prepare<[], SuspensionRow>('SELECT * FROM key_suspensions'),
    };
  }

  async insertIntegration(record: IntegrationRecord, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(
      () => this.statements.insertIntegration.run(...integrationValues(record)),
      { entry, events: () => [integrationEvent('approved', record)] },
    );
  }

  async getIntegration(product: string, id: string): Promise<IntegrationRecord | null> {
    return this.integration(product, id);
  }

  private integration(product: string, id: string): IntegrationRecord | null {
    const row = this.statements.integration.get(product, id);
    return row ? toIntegration(row) : null;
  }

  async listIntegrations(): Promise<IntegrationRecord[]> {
    return this.statements.integrations.all().map(toIntegration);
  }

  async revokeIntegration(product: string, id: string, at: string, entry?: ChangeEntry) {
    return this.changes.applyChange(
      () => {
        if (!this.statements.integration.get(product, id)) return null;
        this.statements.revokeIntegration.run(at, product, id);
        const keyIds = this.statements.activeKeysOf.all(product, id).map((row) => row.id);
        this.statements.revokeKeysOf.run(at, product, id);
        const integration = this.integration(product, id);
        if (!integration) return null;
        const revokedKeys = keyIds
          .map((keyId) => this.keyById(keyId))
          .filter((key): key is KeyRecord => key !== null);
        return { integration, revokedKeys };
      },
      {
        entry,
        changed: (revoked) => revoked !== null,
        events: (revoked) => integrationRevocation(revoked, at),
      },
    );
  }

  /**
   * Not synced on its own: nothing acknowledges threat records, and the request that found them
   * appends its audit entry next, whose sync covers them (the WAL is written in order).
   */
  async insertThreatRecords(records: readonly ThreatRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.changes.inTransaction(
      () => {
        for (const record of records) {
          this.statements.insertThreat.run({ ...record, counted: record.counted ? 1 : 0 });
        }
      },
      { stamp: false, events: () => records.map(threatDetected) },
    );
  }

  async countCriticalRequests(principalId: string, since: string): Promise<number> {
    return this.statements.criticalRequests.get(principalId, since)?.n ?? 0;
  }

  async threatCounts(since: string | null): Promise<Record<string, number>> {
    const rows =
      since === null ? this.statements.countsEver.all() : this.statements.countsSince.all(since);
    return Object.fromEntries(rows.map((row) => [row.threat_id, row.n]));
  }

  async recentThreats(limit: number): Promise<ThreatRecord[]> {
    return this.statements.recent.all(limit).map(toThreat);
  }

  async suspendKey(suspension: KeySuspension): Promise<void> {
    await this.changes.applyChange(
      () =>
        this.statements.suspend.run(suspension.keyId, suspension.suspendedAt, suspension.reason)
          .changes > 0,
      {
        events: () => [keySuspended(suspension, this.keyById(suspension.keyId)?.product ?? null)],
        changed: (suspended) => suspended,
      },
    );
  }

  async reinstateKey(keyId: string, entry?: ChangeEntry): Promise<boolean> {
    return this.changes.applyChange(() => this.statements.reinstate.run(keyId).changes > 0, {
      entry,
      changed: (lifted) => lifted,
      events: () => [keyReinstated(keyId, this.keyById(keyId)?.product ?? null)],
    });
  }

  async listSuspensions(): Promise<KeySuspension[]> {
    return this.statements.suspensions
      .all()
      .map((row) => ({ keyId: row.key_id, suspendedAt: row.suspended_at, reason: row.reason }));
  }
}
