/**
 * The embedded store's retention (migrations 6 and 7): legal holds, retention changes, the
 * sweep's candidates and purges — the RetentionStore port. Changes go through SqliteChanges (the
 * change stamp, the allow entry, the events, the wait for the disk).
 */
import type Database from 'better-sqlite3';
import type { ArtifactKey, ArtifactVersion, Retention } from '../../domain/artifact.js';
import { artifactPurged, holdEvent } from '../../domain/events.js';
import type { LegalHold } from '../../domain/holds.js';
import type { PurgeReason } from '../../domain/retention.js';
import type { ChangeEntry, DueCursor, HoldLift, RetentionStore } from '../ports.js';
import { holdValues, toHold, toVersion, VERSION_COLUMNS, type HoldRow } from '../rows.js';
import type { VersionRow } from '../rows.js';
import type { SqliteChanges } from './changes.js';
import type { HeadCache } from './head-cache.js';
import { SqliteLeases } from './leases.js';

type VersionParams = [string, string, string, number];

export class SqliteRetention implements RetentionStore {
  private readonly statements;
  /** One sweep or scrub at a time among the processes sharing the data directory. */
  private readonly leases: SqliteLeases;

  constructor(
    db: Database.Database,
    private readonly changes: SqliteChanges,
    private readonly heads: HeadCache,
  ) {
    this.leases = new SqliteLeases(db);
    this.statements = {
      insertHold: db.prepare(
        'INSERT INTO legal_holds (id, scope, case_ref, reason, placed_at, placed_by, lifted_at, ' +
          'lifted_by, lift_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      liftHold: db.prepare<[string, string, string, string], HoldRow>(
        'UPDATE legal_holds SET lifted_at = ?, lifted_by = ?, lift_reason = ? ' +
          'WHERE id = ? AND lifted_at IS NULL RETURNING *',
      ),
      holds: db.prepare<[], HoldRow>('SELECT * FROM legal_holds ORDER BY placed_at, id'),
      setRetention: db.prepare<
        [string, string | null, ...VersionParams, string, string | null],
        VersionRow
      >(
        'UPDATE versions SET retention_mode = ?, retention_until = ? ' +
          'WHERE product = ? AND class = ? AND name = ? AND version = ? ' +
          `AND retention_mode = ? AND retention_until IS ? RETURNING ${VERSION_COLUMNS}`,
      ),
      activeHolds: db.prepare<[], HoldRow>('SELECT * FROM legal_holds WHERE lifted_at IS NULL'),
      purge: db.prepare<[string, string, ...VersionParams, string], VersionRow>(
        "UPDATE versions SET storage = 'none', inline_content = NULL, purged_at = ?, " +
          'purge_reason = ? WHERE product = ? AND class = ? AND name = ? AND version = ? ' +
          "AND storage <> 'none' AND purged_at IS NULL " +
          `AND retention_until IS NOT NULL AND retention_until <= ? RETURNING ${VERSION_COLUMNS}`,
      ),
      purgeIndex: db.prepare<[number, ...VersionParams]>(
        'UPDATE versions SET purge_audit_index = ? ' +
          'WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
      due: db.prepare<
        {
          now: string;
          until: string;
          product: string;
          class: string;
          name: string;
          version: number;
          limit: number;
        },
        VersionRow
      >(
        // The row-value comparison follows the index's order (migration 9), so each page is a
        // range scan that starts where the last one ended.
        `SELECT ${VERSION_COLUMNS} FROM versions INDEXED BY versions_retention_due ` +
          "WHERE storage <> 'none' AND retention_until IS NOT NULL AND retention_until <= @now " +
          'AND (retention_until, product, class, name, version) > ' +
          '(@until, @product, @class, @name, @version) ' +
          'ORDER BY retention_until, product, class, name, version LIMIT @limit',
      ),
    };
  }

  async insertHold(hold: LegalHold, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(() => this.statements.insertHold.run(...holdValues(hold)), {
      entry,
      events: () => [holdEvent('placed', hold)],
    });
  }

  liftHold(id: string, lift: HoldLift, entry?: ChangeEntry): Promise<LegalHold | null> {
    return this.changes.applyChange(
      () => {
        const row = this.statements.liftHold.get(lift.at, lift.by, lift.reason, id);
        return row ? toHold(row) : null;
      },
      {
        entry,
        changed: (hold) => hold !== null,
        events: (hold) => (hold ? [holdEvent('lifted', hold)] : []),
      },
    );
  }

  async listHolds(): Promise<LegalHold[]> {
    return this.statements.holds.all().map(toHold);
  }

  setRetention(
    key: ArtifactKey,
    version: number,
    change: { readonly previous: Retention; readonly next: Retention },
    entry?: ChangeEntry,
  ): Promise<ArtifactVersion | null> {
    return this.changes.applyChange(
      () => {
        const row = this.statements.setRetention.get(
          change.next.mode,
          change.next.until,
          ...versionParams(key, version),
          change.previous.mode,
          change.previous.until,
        );
        this.heads.moved(key);
        return row ? toVersion(row) : null;
      },
      { entry, changed: (found) => found !== null, stamp: false },
    );
  }

  async retentionDue(
    now: string,
    after: DueCursor | null,
    limit: number,
  ): Promise<ArtifactVersion[]> {
    const from = after ?? { until: '', product: '', class: '', name: '', version: 0 };
    return this.statements.due.all({ now, ...from, limit }).map(toVersion);
  }

  purgeVersion(
    key: ArtifactKey,
    version: number,
    purge: {
      readonly at: string;
      readonly reason: PurgeReason;
      readonly held: (holds: readonly LegalHold[]) => boolean;
    },
    entry: ChangeEntry,
  ): Promise<ArtifactVersion | null> {
    return this.changes
      .applyChange(
        () => {
          if (purge.held(this.statements.activeHolds.all().map(toHold))) return null;
          const row = this.statements.purge.get(
            purge.at,
            purge.reason,
            ...versionParams(key, version),
            purge.at,
          );
          this.heads.moved(key);
          return row ? toVersion(row) : null;
        },
        {
          entry,
          stamp: false,
          changed: (purged) => purged !== null,
          events: (purged) => (purged ? [artifactPurged(purged, purge.reason)] : []),
          afterEntry: (_purged, receipt) => {
            this.statements.purgeIndex.run(receipt.leafIndex, ...versionParams(key, version));
          },
        },
      )
      .then((purged) =>
        purged && entry.receipt
          ? {
              ...purged,
              purged: { at: purge.at, reason: purge.reason, auditIndex: entry.receipt.leafIndex },
            }
          : purged,
      );
  }

  exclusively<T>(lease: string, fn: () => Promise<T>): Promise<T | null> {
    return this.leases.exclusively(lease, fn);
  }
}

function versionParams(key: ArtifactKey, version: number): VersionParams {
  return [key.product, key.class, key.name, version];
}
