/**
 * The PostgreSQL store's data subjects (migration 11): subject keys, and erasures — one
 * group-commit savepoint holding the audit tree head (PgWriter.applyLogged), so an erasure is
 * ordered with every version commit of every node, each of which checks its key is live under the
 * same lock. The erased versions are updated by one statement, whatever their number.
 */
import type pg from 'pg';
import { blobAddress } from '../../domain/artifact.js';
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
import type { Queryable } from './connection.js';
import type { ChangeLog, PgWriter } from './writer.js';

const ERASE_SQL =
  "UPDATE versions v SET storage = 'none', inline_content = NULL, facts_salt = NULL, " +
  "meta = '{}', purged_at = $1, purge_reason = 'erasure', purge_audit_index = u.idx " +
  'FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) ' +
  'AS u(product, class, name, version, idx) WHERE v.product = u.product ' +
  'AND v.class = u.class AND v.name = u.name AND v.version = u.version';

export class PgSubjects implements SubjectStore {
  constructor(
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  async liveSubjectKey(subject: string) {
    const { rows } = await this.db().query<SubjectKeyRow>(
      'SELECT * FROM subject_keys WHERE subject = $1 AND destroyed_at IS NULL ' +
        'ORDER BY created_at, id LIMIT 1',
      [subject],
    );
    return rows[0] ? toSubjectKey(rows[0]) : null;
  }

  async subjectKey(id: string) {
    const { rows } = await this.db().query<SubjectKeyRow>(
      'SELECT * FROM subject_keys WHERE id = $1',
      [id],
    );
    return rows[0] ? toSubjectKey(rows[0]) : null;
  }

  async eraseSubject(request: ErasureRequest): Promise<ErasureOutcome> {
    const outcome = await this.writer.applyLogged((client, log) => erase(client, log, request));
    request.entry.receipt = outcome.report.audit;
    return outcome;
  }

  async getErasure(id: string): Promise<ErasureReport | null> {
    const { rows } = await this.db().query<{ report: string }>(
      'SELECT report FROM erasures WHERE id = $1',
      [id],
    );
    return rows[0] ? (JSON.parse(rows[0].report) as ErasureReport) : null;
  }

  async listErasures(): Promise<ErasureReport[]> {
    const { rows } = await this.db().query<{ report: string }>(
      'SELECT report FROM erasures ORDER BY audit_index',
    );
    return rows.map((row) => JSON.parse(row.report) as ErasureReport);
  }
}

async function erase(
  client: pg.PoolClient,
  log: ChangeLog,
  request: ErasureRequest,
): Promise<ErasureOutcome> {
  const { rows } = await client.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM versions WHERE subject = $1 AND NOT tombstone ` +
      'AND purged_at IS NULL ORDER BY product, class, name, version',
    [request.subject],
  );
  const holds = await client.query<HoldRow>('SELECT * FROM legal_holds WHERE lifted_at IS NULL');
  const withheldReason = request.withheld(holds.rows.map(toHold));
  const erased: ErasedVersion[] = [];
  const withheld: WithheldVersion[] = [];
  const blobs: string[] = [];
  const columns = { product: [] as string[], class: [] as string[], name: [] as string[] };
  const numbers = { version: [] as number[], idx: [] as number[] };
  for (const row of rows) {
    const version = toVersion(row);
    const reason = withheldReason(version);
    if (reason) {
      withheld.push(withheldOf(version, reason));
      continue;
    }
    const receipt = log.append(request.versionEntry(version));
    log.events([artifactErased(version, request.id)], receipt.leafIndex);
    columns.product.push(version.product);
    columns.class.push(version.class);
    columns.name.push(version.name);
    numbers.version.push(version.version);
    numbers.idx.push(receipt.leafIndex);
    erased.push(erasedOf(version));
    if (version.storage === 'blob') blobs.push(blobAddress(version));
  }
  if (erased.length > 0) {
    await client.query(ERASE_SQL, [
      request.at,
      columns.product,
      columns.class,
      columns.name,
      numbers.version,
      numbers.idx,
    ]);
  }
  // Versions the sweep purged before: no content left, but their metadata and facts salt.
  const purgedBefore = await client.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM versions WHERE subject = $1 AND purged_at IS NOT NULL ` +
      "AND purge_reason <> 'erasure' AND (facts_salt IS NOT NULL OR meta <> '{}')",
    [request.subject],
  );
  for (const row of purgedBefore.rows) {
    const version = toVersion(row);
    if (withheldReason(version)) continue;
    await client.query(
      "UPDATE versions SET facts_salt = NULL, meta = '{}' " +
        'WHERE product = $1 AND class = $2 AND name = $3 AND version = $4',
      [version.product, version.class, version.name, version.version],
    );
  }
  const liveKeys = await client.query(
    'SELECT 1 FROM subject_keys WHERE subject = $1 AND destroyed_at IS NULL LIMIT 1',
    [request.subject],
  );
  const findings = erasureFindings(request, erased, withheld, liveKeys.rows.length > 0);
  if (findings.keyDestroyed) {
    await client.query(
      'UPDATE subject_keys SET wrapped = NULL, destroyed_at = $1, erasure_id = $2 ' +
        'WHERE subject = $3 AND destroyed_at IS NULL',
      [request.at, request.id, request.subject],
    );
  }
  const receipt = log.append(request.sealEntry(findings));
  const report: ErasureReport = { ...findings, audit: receipt };
  await client.query(
    'INSERT INTO erasures (id, subject, report, requested_at, audit_index) ' +
      'VALUES ($1, $2, $3, $4, $5)',
    [request.id, request.subject, JSON.stringify(report), request.requestedAt, receipt.leafIndex],
  );
  return { report, blobs };
}
