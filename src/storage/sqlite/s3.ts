/**
 * The embedded store's S3 front door tables (migrations 17 and 18, SPEC §13): credentials, ETags,
 * multipart uploads and parts (s3-uploads.ts) — the S3Store port. Creating and revoking a
 * credential are changes with their allow entries (SqliteChanges); storing and deleting parts move
 * the product's usage, in the writer's group commit; the rest are plain durable writes.
 */
import type Database from 'better-sqlite3';
import type { StorageLimits } from '../../domain/usage.js';
import type {
  ChangeEntry,
  S3CredentialRecord,
  S3PartOutcome,
  S3PartRecord,
  S3Store,
  S3UploadPosition,
  S3UploadRecord,
  S3VersionRef,
} from '../ports.js';
import type { SqliteChanges } from './changes.js';
import { S3UploadTables } from './s3-uploads.js';
import type { SqliteWriter } from './writer.js';

interface CredentialRow {
  access_key_id: string;
  key_id: string;
  secret: string;
  created_at: string;
  revoked_at: string | null;
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

export type { CredentialRow as S3CredentialRow };

export class SqliteS3 implements S3Store {
  private readonly statements;

  private readonly uploads: S3UploadTables;

  constructor(
    private readonly db: Database.Database,
    private readonly changes: SqliteChanges,
    /** Its group commit moves the usage counters (parts held, released) with them in memory. */
    private readonly writer: SqliteWriter,
  ) {
    this.uploads = new S3UploadTables(db);
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
      etag: db.prepare<[string, string, string, number], { etag: string }>(
        'SELECT etag FROM s3_etags WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
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

  async getS3Etag(ref: S3VersionRef): Promise<string | null> {
    return this.statements.etag.get(ref.product, ref.class, ref.name, ref.version)?.etag ?? null;
  }

  async insertS3Upload(record: S3UploadRecord): Promise<void> {
    await this.changes.writeDurably(() => this.uploads.insert(record));
  }

  async getS3Upload(uploadId: string): Promise<S3UploadRecord | null> {
    return this.uploads.get(uploadId);
  }

  async listS3Uploads(
    product: string,
    limit: number,
    after?: S3UploadPosition,
  ): Promise<S3UploadRecord[]> {
    return this.uploads.list(product, limit, after);
  }

  putS3Part(part: S3PartRecord, product: string, limits: StorageLimits): Promise<S3PartOutcome> {
    return this.writer.withUsage((ledger) => this.uploads.storePart(part, product, limits, ledger));
  }

  async listS3Parts(uploadId: string): Promise<S3PartRecord[]> {
    return this.uploads.parts(uploadId);
  }

  async sumS3PartSizes(uploadId: string, except: number): Promise<number> {
    return this.uploads.otherBytes(uploadId, except);
  }

  async claimS3Upload(uploadId: string, at: string): Promise<S3PartRecord[] | null> {
    return this.changes.writeDurably(() =>
      this.db.transaction(() => this.uploads.claim(uploadId, at)).immediate(),
    );
  }

  async releaseS3Upload(uploadId: string): Promise<void> {
    await this.changes.writeDurably(() => this.uploads.release(uploadId));
  }

  deleteS3Upload(uploadId: string, unlessClaimed = false): Promise<S3PartRecord[] | null> {
    return this.writer.withUsage((ledger) => this.uploads.remove(uploadId, unlessClaimed, ledger));
  }

  async staleS3Uploads(before: string, limit: number): Promise<S3UploadRecord[]> {
    return this.uploads.stale(before, limit);
  }
}
