/** Artifact versions' rows: their columns, values and conversion to records (both adapters). */
import type { ArtifactVersion, RetentionMode } from '../../domain/artifact.js';
import type { PurgeReason, PurgeRecord } from '../../domain/retention.js';
import type { SubjectKeyRecord } from '../../domain/erasure.js';
import type { SubjectVersion } from '../../domain/subjects.js';
import type { StoredVersion, VersionForRead } from '../ports/artifacts.js';
import { flag, type Flag } from './flag.js';

/** The recorded facts of a version, as its write sets them. */
const RECORDED_COLUMNS =
  'product, class, name, version, sha256, size, content_type, meta, created_at, created_by, ' +
  'retention_mode, retention_until, tombstone, storage, subject';

/** Where a sealed content's key and id are (SPEC §8 encryption at rest; null when plaintext). */
const SEALED_COLUMNS = 'sealed_key, content_id';

/**
 * The columns a new version is inserted with (`versionValues` order): its facts, its bytes when
 * inline, its facts salt and the leaf index of the entry that allowed it (SPEC §8 DSAR
 * `auditIndex`).
 */
export const VERSION_INSERT_COLUMNS = `${RECORDED_COLUMNS}, inline_content, facts_salt, audit_index, ${SEALED_COLUMNS}`;

/**
 * The columns of a version, in the order both adapters select them: those its write sets, then
 * its purge (SPEC §8), set only by the retention sweep.
 */
export const VERSION_COLUMNS = `${RECORDED_COLUMNS}, purged_at, purge_reason, purge_audit_index, ${SEALED_COLUMNS}`;

/**
 * A version's values in VERSION_INSERT_COLUMNS order, as the SQLite store inserts them (the
 * tombstone as 0 or 1). The PostgreSQL store inserts whole batches column by column
 * (postgres/version-rows.ts).
 */
export function versionValues(
  v: ArtifactVersion,
  inline: Buffer | null,
  factsSalt: Buffer,
  auditIndex: number,
) {
  return [
    v.product,
    v.class,
    v.name,
    v.version,
    v.sha256,
    v.size,
    v.contentType,
    JSON.stringify(v.meta),
    v.createdAt,
    v.createdBy,
    v.retention.mode,
    v.retention.until,
    v.tombstone ? 1 : 0,
    v.storage,
    v.subject ?? null,
    inline,
    factsSalt,
    auditIndex,
    v.sealed?.keyId ?? null,
    v.sealed?.contentId ?? null,
  ] as const;
}

export interface VersionRow {
  product: string;
  class: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: string;
  created_at: string;
  created_by: string;
  retention_mode: string;
  retention_until: string | null;
  tombstone: Flag;
  storage: string;
  subject: string | null;
  purged_at: string | null;
  purge_reason: string | null;
  purge_audit_index: number | null;
  sealed_key: string | null;
  content_id: string | null;
}

export type ReadRow = VersionRow & { inline_content: Buffer | null };

/** A version as verification reads it: with its bytes and the salt of its facts hash. */
export type StoredRow = ReadRow & {
  facts_salt: Buffer | null;
  audit_index: number | null;
  /** Purged before its subject's erasure, which then destroyed its salt (both dialects' truth). */
  subject_erased: boolean | number | null;
};

/**
 * The columns of a StoredRow: a version's whole row, as verification reads it. A version the sweep
 * purged before its subject was erased lost its salt to that erasure: the erasure record vouches.
 */
export const STORED_VERSION_COLUMNS =
  `${VERSION_COLUMNS}, inline_content, facts_salt, audit_index, ` +
  '(purged_at IS NOT NULL AND facts_salt IS NULL AND subject IS NOT NULL AND EXISTS (' +
  'SELECT 1 FROM erasures WHERE erasures.subject = versions.subject ' +
  'AND erasures.audit_index > COALESCE(versions.purge_audit_index, -1))) AS subject_erased';

export function toVersion(row: VersionRow): ArtifactVersion {
  return {
    product: row.product,
    class: row.class,
    name: row.name,
    version: row.version,
    sha256: row.sha256,
    size: row.size,
    contentType: row.content_type,
    meta: JSON.parse(row.meta) as Record<string, string>,
    createdAt: row.created_at,
    createdBy: row.created_by,
    retention: { mode: row.retention_mode as RetentionMode, until: row.retention_until },
    tombstone: flag(row.tombstone),
    storage: row.storage as ArtifactVersion['storage'],
    ...(row.purged_at === null ? {} : { purged: purgeOf(row) }),
    ...(row.subject === null ? {} : { subject: row.subject }),
    ...(row.sealed_key === null || row.content_id === null
      ? {}
      : { sealed: { keyId: row.sealed_key, contentId: row.content_id } }),
  };
}

/** A version as the subject index gives it (SPEC §8 DSAR), with its write's leaf index. */
export type SubjectRow = VersionRow & { audit_index: number | null };

export function toSubjectVersion(row: SubjectRow): SubjectVersion {
  return {
    version: toVersion(row),
    auditIndex: row.audit_index === null ? null : Number(row.audit_index),
  };
}

function purgeOf(row: VersionRow): PurgeRecord {
  return {
    at: row.purged_at ?? '',
    reason: row.purge_reason as PurgeReason,
    auditIndex: Number(row.purge_audit_index),
  };
}

export function toRead(row: ReadRow): VersionForRead {
  return { version: toVersion(row), inline: row.inline_content };
}

export function toStored(row: StoredRow): StoredVersion {
  const version = toVersion(row);
  return {
    version,
    inline: row.inline_content,
    factsSalt: row.facts_salt,
    auditIndex: row.audit_index === null ? null : Number(row.audit_index),
    saltDestroyed: version.purged?.reason === 'erasure' || Boolean(row.subject_erased),
  };
}

/** A subject key's row (migrations: SQLite 14, PostgreSQL 11). */
export interface SubjectKeyRow {
  id: string;
  subject: string;
  wrapped: string | null;
  created_at: string;
  destroyed_at: string | null;
}

export function toSubjectKey(row: SubjectKeyRow): SubjectKeyRecord {
  return {
    id: row.id,
    subject: row.subject,
    wrapped: row.wrapped,
    createdAt: row.created_at,
    destroyedAt: row.destroyed_at,
  };
}
