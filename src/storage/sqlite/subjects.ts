/**
 * The embedded store's data subjects (migration 14): subject keys, and erasures — each one IMMEDIATE
 * transaction (SqliteChanges) that purges the subject's versions not withheld with their entries
 * and events, destroys its keys when nothing is withheld, and stores the report with the
 * erasure's entry. The single writer orders it with every version commit, which checks its key is
 * live in its own transaction: no version commits under a key an erasure destroyed.
 */
import type Database from 'better-sqlite3';
import { blobAddress, type ArtifactVersion } from '../../domain/artifact.js';
import {
  erasedOf,
  erasureFindings,
  withheldOf,
  type ErasedVersion,
  type ErasureReport,
  type WithheldVersion,
} from '../../domain/erasure.js';
import { artifactErased } from '../../domain/events.js';
import type { ErasureOutcome, ErasureRequest, SubjectStore } from '../ports.js';
import {
  toHold,
  toSubjectKey,
  toVersion,
  VERSION_COLUMNS,
  type HoldRow,
  type SubjectKeyRow,
  type VersionRow,
} from '../rows.js';
import type { SqliteChanges } from './changes.js';
import type { HeadCache } from './head-cache.js';
import type { SqliteWriter } from './writer.js';

type VersionParams = [string, string, string, number];

export class SqliteSubjects implements SubjectStore {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly changes: SqliteChanges,
    private readonly writer: SqliteWriter,
    private readonly heads: HeadCache,
  ) {
    this.statements = {
      liveKey: db.prepare<[string], SubjectKeyRow>(
        'SELECT * FROM subject_keys INDEXED BY subject_keys_live ' +
          'WHERE subject = ? AND destroyed_at IS NULL ORDER BY created_at, id LIMIT 1',
      ),
      key: db.prepare<[string], SubjectKeyRow>('SELECT * FROM subject_keys WHERE id = ?'),
      live: db.prepare<[string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions INDEXED BY versions_subject ` +
          'WHERE subject = ? AND tombstone = 0 AND purged_at IS NULL ' +
          'ORDER BY product, class, name, version',
      ),
      erase: db.prepare<[string, number, ...VersionParams]>(
        "UPDATE versions SET storage = 'none', inline_content = NULL, facts_salt = NULL, " +
          "meta = '{}', purged_at = ?, purge_reason = 'erasure', purge_audit_index = ? " +
          'WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
      // Versions the sweep purged before: no content left, but their metadata and facts salt.
      purgedBefore: db.prepare<[string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions INDEXED BY versions_subject ` +
          "WHERE subject = ? AND purged_at IS NOT NULL AND purge_reason <> 'erasure' " +
          "AND (facts_salt IS NOT NULL OR meta <> '{}')",
      ),
      clearPurged: db.prepare<VersionParams>(
        "UPDATE versions SET facts_salt = NULL, meta = '{}' " +
          'WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
      destroyKeys: db.prepare<[string, string, string]>(
        'UPDATE subject_keys SET wrapped = NULL, destroyed_at = ?, erasure_id = ? ' +
          'WHERE subject = ? AND destroyed_at IS NULL',
      ),
      insertErasure: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO erasures (id, subject, report, requested_at, audit_index) ' +
          'VALUES (?, ?, ?, ?, ?)',
      ),
      holds: db.prepare<[], HoldRow>('SELECT * FROM legal_holds WHERE lifted_at IS NULL'),
      erasure: db.prepare<[string], { report: string }>('SELECT report FROM erasures WHERE id = ?'),
      erasures: db.prepare<[], { report: string }>(
        'SELECT report FROM erasures ORDER BY audit_index',
      ),
    };
  }

  async liveSubjectKey(subject: string) {
    const row = this.statements.liveKey.get(subject);
    return row ? toSubjectKey(row) : null;
  }

  async subjectKey(id: string) {
    const row = this.statements.key.get(id);
    return row ? toSubjectKey(row) : null;
  }

  async eraseSubject(request: ErasureRequest): Promise<ErasureOutcome> {
    const { statements } = this;
    let outcome: ErasureOutcome | null = null;
    await this.changes.applyChange(
      () => {
        const erased: ErasedVersion[] = [];
        const withheld: WithheldVersion[] = [];
        const blobs: string[] = [];
        const withheldReason = request.withheld(statements.holds.all().map(toHold));
        for (const row of statements.live.all(request.subject)) {
          const version = toVersion(row);
          const reason = withheldReason(version);
          if (reason) {
            withheld.push(withheldOf(version, reason));
            continue;
          }
          const receipt = this.writer.appendWithin(request.versionEntry(version));
          statements.erase.run(request.at, receipt.leafIndex, ...versionParams(version));
          this.heads.moved(version);
          this.writer.eventsWithin([artifactErased(version, request.id)], receipt.leafIndex);
          erased.push(erasedOf(version));
          if (version.storage === 'blob') blobs.push(blobAddress(version));
        }
        for (const row of statements.purgedBefore.all(request.subject)) {
          const version = toVersion(row);
          if (withheldReason(version)) continue;
          statements.clearPurged.run(...versionParams(version));
          this.heads.moved(version);
        }
        const keyFound = statements.liveKey.get(request.subject) !== undefined;
        const findings = erasureFindings(request, erased, withheld, keyFound);
        if (findings.keyDestroyed)
          statements.destroyKeys.run(request.at, request.id, request.subject);
        const receipt = this.writer.appendWithin(request.sealEntry(findings));
        const report: ErasureReport = { ...findings, audit: receipt };
        statements.insertErasure.run(
          request.id,
          request.subject,
          JSON.stringify(report),
          request.requestedAt,
          receipt.leafIndex,
        );
        outcome = { report, blobs };
      },
      { stamp: false },
    );
    const done = outcome as ErasureOutcome | null;
    if (!done) throw new Error('the erasure did not run');
    request.entry.receipt = done.report.audit;
    return done;
  }

  async getErasure(id: string): Promise<ErasureReport | null> {
    const row = this.statements.erasure.get(id);
    return row ? (JSON.parse(row.report) as ErasureReport) : null;
  }

  async listErasures(): Promise<ErasureReport[]> {
    return this.statements.erasures.all().map((row) => JSON.parse(row.report) as ErasureReport);
  }
}

function versionParams(v: ArtifactVersion): VersionParams {
  return [v.product, v.class, v.name, v.version];
}
