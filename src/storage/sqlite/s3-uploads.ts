/**
 * The embedded store's multipart upload tables (SPEC §13; decision records 0044, 0051, 0052):
 * uploads, their claim by a completion and their parts, as statements that run inside the caller's
 * transaction — SqliteS3's, or the writer's group commit, where storing or removing a part moves
 * the product's usage (`UsageLedger`) and a completion's commit removes its upload.
 */
import type Database from 'better-sqlite3';
import { storageBreach, type StorageLimits, type UsageFacts } from '../../domain/usage.js';
import type { S3PartOutcome, S3PartRecord, S3UploadPosition, S3UploadRecord } from '../ports.js';

export interface UploadRow {
  upload_id: string;
  product: string;
  class: string;
  name: string;
  principal_id: string;
  content_type: string | null;
  meta: string;
  created_at: string;
  claimed_at: string | null;
}

export interface PartRow {
  upload_id: string;
  part_number: number;
  size: number;
  md5: string;
  sha256: string;
  created_at: string;
}

export function toS3Upload(row: UploadRow): S3UploadRecord {
  return {
    uploadId: row.upload_id,
    product: row.product,
    class: row.class,
    name: row.name,
    principalId: row.principal_id,
    contentType: row.content_type,
    meta: JSON.parse(row.meta) as Record<string, string>,
    createdAt: row.created_at,
    claimedAt: row.claimed_at ?? null,
  };
}

export function toS3Part(row: PartRow): S3PartRecord {
  return {
    uploadId: row.upload_id,
    partNumber: Number(row.part_number),
    size: Number(row.size),
    md5: row.md5,
    sha256: row.sha256,
    createdAt: row.created_at,
  };
}

/** An upload's row values in INSERT order (upload id … created; never claimed yet). */
export function uploadValues(record: S3UploadRecord): unknown[] {
  return [
    record.uploadId,
    record.product,
    record.class,
    record.name,
    record.principalId,
    record.contentType,
    JSON.stringify(record.meta),
    record.createdAt,
  ];
}

/** The usage counters as a write transaction reads and moves them (the writer's). */
export interface UsageLedger {
  facts(product: string): UsageFacts;
  /** Adds `bytes` (negative: releases them) to the product's usage. */
  move(product: string, bytes: number): void;
}

export class S3UploadTables {
  private readonly statements;

  constructor(db: Database.Database) {
    const order = 'ORDER BY class, name, created_at, upload_id LIMIT ?';
    this.statements = {
      insert: db.prepare(
        'INSERT INTO s3_uploads (upload_id, product, class, name, principal_id, content_type, ' +
          'meta, created_at, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)',
      ),
      upload: db.prepare<[string], UploadRow>('SELECT * FROM s3_uploads WHERE upload_id = ?'),
      uploads: db.prepare<[string, number], UploadRow>(
        `SELECT * FROM s3_uploads WHERE product = ? ${order}`,
      ),
      uploadsAfterKey: db.prepare<[string, string, string, number], UploadRow>(
        `SELECT * FROM s3_uploads WHERE product = ? AND (class, name) > (?, ?) ${order}`,
      ),
      uploadsAfterUpload: db.prepare<[string, string, string, string, string, number], UploadRow>(
        'SELECT * FROM s3_uploads WHERE product = ? ' +
          `AND (class, name, created_at, upload_id) > (?, ?, ?, ?) ${order}`,
      ),
      stale: db.prepare<[string, string, number], UploadRow>(
        'SELECT * FROM s3_uploads WHERE created_at < ? ' +
          'AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY created_at LIMIT ?',
      ),
      claim: db.prepare(
        'UPDATE s3_uploads SET claimed_at = ? WHERE upload_id = ? AND claimed_at IS NULL',
      ),
      release: db.prepare('UPDATE s3_uploads SET claimed_at = NULL WHERE upload_id = ?'),
      part: db.prepare<[string, number], PartRow>(
        'SELECT * FROM s3_parts WHERE upload_id = ? AND part_number = ?',
      ),
      putPart: db.prepare(
        'INSERT OR REPLACE INTO s3_parts (upload_id, part_number, size, md5, sha256, ' +
          'created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      parts: db.prepare<[string], PartRow>(
        'SELECT * FROM s3_parts WHERE upload_id = ? ORDER BY part_number',
      ),
      heldBytes: db.prepare<[string], { bytes: number | null }>(
        'SELECT sum(size) AS bytes FROM s3_parts WHERE upload_id = ?',
      ),
      otherBytes: db.prepare<[string, number], { bytes: number | null }>(
        'SELECT sum(size) AS bytes FROM s3_parts WHERE upload_id = ? AND part_number <> ?',
      ),
      deleteParts: db.prepare('DELETE FROM s3_parts WHERE upload_id = ?'),
      deleteUpload: db.prepare('DELETE FROM s3_uploads WHERE upload_id = ?'),
    };
  }

  insert(record: S3UploadRecord): void {
    this.statements.insert.run(...uploadValues(record));
  }

  get(uploadId: string): S3UploadRecord | null {
    const row = this.statements.upload.get(uploadId);
    return row ? toS3Upload(row) : null;
  }

  list(product: string, limit: number, after?: S3UploadPosition): S3UploadRecord[] {
    const { statements } = this;
    const rows = !after
      ? statements.uploads.all(product, limit)
      : after.upload
        ? statements.uploadsAfterUpload.all(
            product,
            after.class,
            after.name,
            after.upload.createdAt,
            after.upload.uploadId,
            limit,
          )
        : statements.uploadsAfterKey.all(product, after.class, after.name, limit);
    return rows.map(toS3Upload);
  }

  stale(before: string, limit: number): S3UploadRecord[] {
    return this.statements.stale.all(before, before, limit).map(toS3Upload);
  }

  parts(uploadId: string): S3PartRecord[] {
    return this.statements.parts.all(uploadId).map(toS3Part);
  }

  /** Claims an open upload; its parts, or null when it is gone or claimed. */
  claim(uploadId: string, at: string): S3PartRecord[] | null {
    if (this.statements.claim.run(at, uploadId).changes === 0) return null;
    return this.parts(uploadId);
  }

  release(uploadId: string): void {
    this.statements.release.run(uploadId);
  }

  /** Stores a part of an open upload, its bytes held in the product's usage within `limits`. */
  storePart(
    part: S3PartRecord,
    product: string,
    limits: StorageLimits,
    ledger: UsageLedger,
  ): S3PartOutcome {
    const upload = this.statements.upload.get(part.uploadId);
    if (!upload || upload.claimed_at !== null) return { stored: false, reason: 'no_upload' };
    const previous = this.statements.part.get(part.uploadId, part.partNumber);
    const bytes = part.size - (previous ? Number(previous.size) : 0);
    const breach = bytes > 0 ? storageBreach(ledger.facts(product), limits, bytes, 0) : null;
    if (breach) return { stored: false, reason: 'insufficient_storage', ...breach };
    this.statements.putPart.run(
      part.uploadId,
      part.partNumber,
      part.size,
      part.md5,
      part.sha256,
      part.createdAt,
    );
    ledger.move(product, bytes);
    return { stored: true, replaced: previous ? toS3Part(previous) : null };
  }

  /** The bytes an upload's parts hold in its product's usage. */
  heldBytes(uploadId: string): number {
    return Number(this.statements.heldBytes.get(uploadId)?.bytes ?? 0);
  }

  /** The bytes the upload's parts hold, but the part numbered `except`. */
  otherBytes(uploadId: string, except: number): number {
    return Number(this.statements.otherBytes.get(uploadId, except)?.bytes ?? 0);
  }

  /**
   * Deletes an upload and its parts (unless a completion claimed it, with `unlessClaimed`),
   * releasing what they held; answers its parts, or null when nothing was deleted.
   */
  remove(uploadId: string, unlessClaimed: boolean, ledger: UsageLedger): S3PartRecord[] | null {
    const upload = this.statements.upload.get(uploadId);
    if (!upload || (unlessClaimed && upload.claimed_at !== null)) return null;
    const parts = this.parts(uploadId);
    this.statements.deleteParts.run(uploadId);
    this.statements.deleteUpload.run(uploadId);
    ledger.move(upload.product, -parts.reduce((sum, part) => sum + part.size, 0));
    return parts;
  }

  /** A completion's commit: deletes the upload and its parts, whose bytes the version takes. */
  removeCompleted(uploadId: string): void {
    this.statements.deleteParts.run(uploadId);
    this.statements.deleteUpload.run(uploadId);
  }
}
