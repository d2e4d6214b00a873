/**
 * The embedded store's S3 front door tables (migrations 17 and 18, SPEC §13): credentials, ETags,
 * multipart uploads and parts — the S3Store port. Creating and revoking a credential are changes
 * with their allow entries (SqliteChanges); the rest are plain durable writes.
 */
import type Database from 'better-sqlite3';
import type {
  ChangeEntry,
  S3CredentialRecord,
  S3PartRecord,
  S3Store,
  S3UploadPosition,
  S3UploadRecord,
  S3VersionRef,
} from '../ports.js';
import type { SqliteChanges } from './changes.js';

interface CredentialRow {
  access_key_id: string;
  key_id: string;
  secret: string;
  created_at: string;
  revoked_at: string | null;
}

interface UploadRow {
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

interface PartRow {
  upload_id: string;
  part_number: number;
  size: number;
  md5: string;
  sha256: string;
  created_at: string;
}

export function toS3Credential(row: CredentialRow): S3CredentialRecord {
  return {
    accessKeyId: row.access_key_id,
    keyId: row.key_id,
    wrappedSecret: row.secret,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
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

export type { CredentialRow as S3CredentialRow, PartRow as S3PartRow, UploadRow as S3UploadRow };

export class SqliteS3 implements S3Store {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      insertCredential: db.prepare(
        'INSERT INTO s3_credentials (access_key_id, key_id, secret, created_at, revoked_at) ' +
          'VALUES (?, ?, ?, ?, ?)',
      ),
      credential: db.prepare<[string], CredentialRow>(
        'SELECT * FROM s3_credentials WHERE access_key_id = ?',
      ),
      credentials: db.prepare<[string], CredentialRow>(
        'SELECT * FROM s3_credentials WHERE key_id = ? ORDER BY created_at, access_key_id',
      ),
      revokeCredential: db.prepare(
        'UPDATE s3_credentials SET revoked_at = coalesce(revoked_at, ?) ' +
          'WHERE key_id = ? AND access_key_id = ?',
      ),
      setEtag: db.prepare(
        'INSERT OR REPLACE INTO s3_etags (product, class, name, version, etag) ' +
          'VALUES (?, ?, ?, ?, ?)',
      ),
      etag: db.prepare<[string, string, string, number], { etag: string }>(
        'SELECT etag FROM s3_etags WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
      insertUpload: db.prepare(
        'INSERT INTO s3_uploads (upload_id, product, class, name, principal_id, content_type, ' +
          'meta, created_at, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)',
      ),
      upload: db.prepare<[string], UploadRow>('SELECT * FROM s3_uploads WHERE upload_id = ?'),
      uploads: db.prepare<[string, number], UploadRow>(
        'SELECT * FROM s3_uploads WHERE product = ? ' +
          'ORDER BY class, name, created_at, upload_id LIMIT ?',
      ),
      uploadsAfterKey: db.prepare<[string, string, string, number], UploadRow>(
        'SELECT * FROM s3_uploads WHERE product = ? AND (class, name) > (?, ?) ' +
          'ORDER BY class, name, created_at, upload_id LIMIT ?',
      ),
      uploadsAfterUpload: db.prepare<[string, string, string, string, string, number], UploadRow>(
        'SELECT * FROM s3_uploads WHERE product = ? ' +
          'AND (class, name, created_at, upload_id) > (?, ?, ?, ?) ' +
          'ORDER BY class, name, created_at, upload_id LIMIT ?',
      ),
      stale: db.prepare<[string, string, number], UploadRow>(
        'SELECT * FROM s3_uploads WHERE created_at < ? ' +
          'AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY created_at LIMIT ?',
      ),
      openUpload: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM s3_uploads WHERE upload_id = ? AND claimed_at IS NULL',
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
      deleteParts: db.prepare('DELETE FROM s3_parts WHERE upload_id = ?'),
      deleteUpload: db.prepare('DELETE FROM s3_uploads WHERE upload_id = ?'),
    };
  }

  async insertS3Credential(record: S3CredentialRecord, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(
      () =>
        this.statements.insertCredential.run(
          record.accessKeyId,
          record.keyId,
          record.wrappedSecret,
          record.createdAt,
          record.revokedAt,
        ),
      { entry },
    );
  }

  async getS3Credential(accessKeyId: string): Promise<S3CredentialRecord | null> {
    const row = this.statements.credential.get(accessKeyId);
    return row ? toS3Credential(row) : null;
  }

  async listS3Credentials(keyId: string): Promise<S3CredentialRecord[]> {
    return this.statements.credentials.all(keyId).map(toS3Credential);
  }

  async revokeS3Credential(
    keyId: string,
    accessKeyId: string,
    at: string,
    entry?: ChangeEntry,
  ): Promise<S3CredentialRecord | null> {
    return this.changes.applyChange(
      () => {
        if (this.statements.revokeCredential.run(at, keyId, accessKeyId).changes === 0) {
          return null;
        }
        const row = this.statements.credential.get(accessKeyId);
        return row ? toS3Credential(row) : null;
      },
      { entry, changed: (found) => found !== null },
    );
  }

  /**
   * Not waited for on disk: the next acknowledged write's sync covers it (the WAL is written in
   * order). A crash before that loses only the row, and the version answers its SHA-256 ETag
   * (decision record 0043) — instead of every S3 write waiting for a second sync.
   */
  async setS3Etag(ref: S3VersionRef, etag: string): Promise<void> {
    this.statements.setEtag.run(ref.product, ref.class, ref.name, ref.version, etag);
  }

  async getS3Etag(ref: S3VersionRef): Promise<string | null> {
    return this.statements.etag.get(ref.product, ref.class, ref.name, ref.version)?.etag ?? null;
  }

  async insertS3Upload(record: S3UploadRecord): Promise<void> {
    await this.changes.writeDurably(() =>
      this.statements.insertUpload.run(
        record.uploadId,
        record.product,
        record.class,
        record.name,
        record.principalId,
        record.contentType,
        JSON.stringify(record.meta),
        record.createdAt,
      ),
    );
  }

  async getS3Upload(uploadId: string): Promise<S3UploadRecord | null> {
    const row = this.statements.upload.get(uploadId);
    return row ? toS3Upload(row) : null;
  }

  async listS3Uploads(
    product: string,
    limit: number,
    after?: S3UploadPosition,
  ): Promise<S3UploadRecord[]> {
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

  async putS3Part(part: S3PartRecord): Promise<S3PartRecord | null | 'no_upload'> {
    return this.changes.writeDurably(() =>
      this.db.transaction((): S3PartRecord | null | 'no_upload' => {
        if (!this.statements.openUpload.get(part.uploadId)) return 'no_upload';
        const previous = this.statements.part.get(part.uploadId, part.partNumber);
        this.statements.putPart.run(
          part.uploadId,
          part.partNumber,
          part.size,
          part.md5,
          part.sha256,
          part.createdAt,
        );
        return previous ? toS3Part(previous) : null;
      })(),
    );
  }

  async listS3Parts(uploadId: string): Promise<S3PartRecord[]> {
    return this.statements.parts.all(uploadId).map(toS3Part);
  }

  async claimS3Upload(uploadId: string, at: string): Promise<S3PartRecord[] | null> {
    return this.changes.writeDurably(() =>
      this.db
        .transaction(() => {
          if (this.statements.claim.run(at, uploadId).changes === 0) return null;
          return this.statements.parts.all(uploadId).map(toS3Part);
        })
        .immediate(),
    );
  }

  async releaseS3Upload(uploadId: string): Promise<void> {
    await this.changes.writeDurably(() => this.statements.release.run(uploadId));
  }

  async deleteS3Upload(uploadId: string, unlessClaimed = false): Promise<S3PartRecord[] | null> {
    return this.changes.writeDurably(() =>
      this.db
        .transaction(() => {
          const upload = this.statements.upload.get(uploadId);
          if (!upload || (unlessClaimed && upload.claimed_at !== null)) return null;
          const parts = this.statements.parts.all(uploadId).map(toS3Part);
          this.statements.deleteParts.run(uploadId);
          this.statements.deleteUpload.run(uploadId);
          return parts;
        })
        .immediate(),
    );
  }

  async staleS3Uploads(before: string, limit: number): Promise<S3UploadRecord[]> {
    return this.statements.stale.all(before, before, limit).map(toS3Upload);
  }
}
