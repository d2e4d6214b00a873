/**
 * The PostgreSQL store's S3 front door tables (migrations 14 and 15, SPEC §13): credentials, ETags,
 * multipart uploads and parts — the S3Store port, with the same results as the embedded store.
 */
import type pg from 'pg';
import { storageBreach, type StorageLimits } from '../../domain/usage.js';
import type {
  ChangeEntry,
  S3CredentialRecord,
  S3PartRecord,
  S3PartOutcome,
  S3Store,
  S3UploadPosition,
  S3UploadRecord,
  S3VersionRef,
} from '../ports.js';
import { toS3Credential, type S3CredentialRow } from '../sqlite/s3.js';
import {
  toS3Part,
  toS3Upload,
  uploadValues,
  type PartRow as S3PartRow,
  type UploadRow as S3UploadRow,
} from '../sqlite/s3-uploads.js';
import { BUMP } from './change-stamp.js';
import type { Queryable } from './connection.js';
import { moveUsage, readUsageRows } from './usage-rows.js';
import type { PgWriter } from './writer.js';

export class PgS3 implements S3Store {
  constructor(
    private readonly pool: pg.Pool,
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  insertS3Credential(record: S3CredentialRecord, entry?: ChangeEntry): Promise<void> {
    return this.writer.applyChange(
      async (client) => {
        await (client ?? this.pool).query(
          BUMP +
            'INSERT INTO s3_credentials (access_key_id, key_id, secret, created_at, revoked_at) ' +
            'VALUES ($1, $2, $3, $4, $5)',
          [
            record.accessKeyId,
            record.keyId,
            record.wrappedSecret,
            record.createdAt,
            record.revokedAt,
          ],
        );
      },
      { entry },
    );
  }

  async getS3Credential(accessKeyId: string): Promise<S3CredentialRecord | null> {
    const { rows } = await this.db().query<S3CredentialRow>(
      'SELECT * FROM s3_credentials WHERE access_key_id = $1',
      [accessKeyId],
    );
    return rows[0] ? toS3Credential(rows[0]) : null;
  }

  async listS3Credentials(keyId: string): Promise<S3CredentialRecord[]> {
    const { rows } = await this.db().query<S3CredentialRow>(
      'SELECT * FROM s3_credentials WHERE key_id = $1 ORDER BY created_at, access_key_id',
      [keyId],
    );
    return rows.map(toS3Credential);
  }

  revokeS3Credential(
    keyId: string,
    accessKeyId: string,
    at: string,
    entry?: ChangeEntry,
  ): Promise<S3CredentialRecord | null> {
    return this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<S3CredentialRow>(
          BUMP +
            'UPDATE s3_credentials SET revoked_at = coalesce(revoked_at, $1) ' +
            'WHERE key_id = $2 AND access_key_id = $3 RETURNING *',
          [at, keyId, accessKeyId],
        );
        return rows[0] ? toS3Credential(rows[0]) : null;
      },
      { entry, changed: (found) => found !== null },
    );
  }

  async getS3Etag(ref: S3VersionRef): Promise<string | null> {
    const { rows } = await this.db().query<{ etag: string }>(
      'SELECT etag FROM s3_etags WHERE product = $1 AND class = $2 AND name = $3 AND version = $4',
      [ref.product, ref.class, ref.name, ref.version],
    );
    return rows[0]?.etag ?? null;
  }

  async insertS3Upload(record: S3UploadRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO s3_uploads (upload_id, product, class, name, principal_id, content_type, ' +
        'meta, created_at, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)',
      uploadValues(record),
    );
  }

  async getS3Upload(uploadId: string): Promise<S3UploadRecord | null> {
    const { rows } = await this.db().query<S3UploadRow>(
      'SELECT * FROM s3_uploads WHERE upload_id = $1',
      [uploadId],
    );
    return rows[0] ? toS3Upload(rows[0]) : null;
  }

  async listS3Uploads(
    product: string,
    limit: number,
    after?: S3UploadPosition,
  ): Promise<S3UploadRecord[]> {
    const values: unknown[] = [product, limit];
    let where = '';
    if (after) {
      values.push(after.class, after.name);
      where = after.upload
        ? ' AND (class, name, created_at, upload_id) > ($3, $4, $5, $6)'
        : ' AND (class, name) > ($3, $4)';
      if (after.upload) values.push(after.upload.createdAt, after.upload.uploadId);
    }
    const { rows } = await this.db().query<S3UploadRow>(
      `SELECT * FROM s3_uploads WHERE product = $1${where} ` +
        'ORDER BY class, name, created_at, upload_id LIMIT $2',
      values,
    );
    return rows.map(toS3Upload);
  }

  /**
   * In a job of the writer's group commit, under the audit tree head's lock that every commit
   * reading and moving the usage rows holds: the quota check and the move are exact.
   */
  putS3Part(part: S3PartRecord, product: string, limits: StorageLimits): Promise<S3PartOutcome> {
    return this.writer.applyLogged(async (client): Promise<S3PartOutcome> => {
      // Locked for share: a claim (not under the tree lock) waits for this part, or this part
      // finds the upload claimed.
      const upload = await client.query(
        'SELECT 1 FROM s3_uploads WHERE upload_id = $1 AND claimed_at IS NULL FOR SHARE',
        [part.uploadId],
      );
      if (upload.rowCount === 0) return { stored: false, reason: 'no_upload' };
      const { rows } = await client.query<S3PartRow>(
        'SELECT * FROM s3_parts WHERE upload_id = $1 AND part_number = $2',
        [part.uploadId, part.partNumber],
      );
      const previous = rows[0] ? toS3Part(rows[0]) : null;
      const bytes = part.size - (previous?.size ?? 0);
      if (bytes > 0) {
        const usage = (await readUsageRows(client)).facts(product);
        const breach = storageBreach(usage, limits, bytes, 0);
        if (breach) return { stored: false, reason: 'insufficient_storage', ...breach };
      }
      await client.query(
        'INSERT INTO s3_parts (upload_id, part_number, size, md5, sha256, created_at) ' +
          'VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (upload_id, part_number) DO UPDATE SET ' +
          'size = EXCLUDED.size, md5 = EXCLUDED.md5, sha256 = EXCLUDED.sha256, ' +
          'created_at = EXCLUDED.created_at',
        [part.uploadId, part.partNumber, part.size, part.md5, part.sha256, part.createdAt],
      );
      await moveUsage(client, product, bytes);
      return { stored: true, replaced: previous };
    });
  }

  async listS3Parts(uploadId: string): Promise<S3PartRecord[]> {
    const { rows } = await this.db().query<S3PartRow>(
      'SELECT * FROM s3_parts WHERE upload_id = $1 ORDER BY part_number',
      [uploadId],
    );
    return rows.map(toS3Part);
  }

  async sumS3PartSizes(uploadId: string, except: number): Promise<number> {
    const { rows } = await this.db().query<{ bytes: string | null }>(
      'SELECT sum(size) AS bytes FROM s3_parts WHERE upload_id = $1 AND part_number <> $2',
      [uploadId, except],
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  /**
   * The claim is one UPDATE (atomic); the parts are read by a statement of their own after it,
   * whose snapshot holds every part that committed before the claim (a part waits for no claim:
   * it locks the upload row for share and then finds it claimed).
   */
  async claimS3Upload(uploadId: string, at: string): Promise<S3PartRecord[] | null> {
    const claimed = await this.pool.query(
      'UPDATE s3_uploads SET claimed_at = $2 WHERE upload_id = $1 AND claimed_at IS NULL',
      [uploadId, at],
    );
    if (claimed.rowCount === 0) return null;
    return this.listS3Parts(uploadId);
  }

  async releaseS3Upload(uploadId: string): Promise<void> {
    await this.pool.query('UPDATE s3_uploads SET claimed_at = NULL WHERE upload_id = $1', [
      uploadId,
    ]);
  }

  /** In a job of the writer's group commit, as putS3Part: the release of the bytes is exact. */
  deleteS3Upload(uploadId: string, unlessClaimed = false): Promise<S3PartRecord[] | null> {
    return this.writer.applyLogged(async (client) => {
      const upload = await client.query<{ product: string }>(
        'DELETE FROM s3_uploads WHERE upload_id = $1' +
          (unlessClaimed ? ' AND claimed_at IS NULL' : '') +
          ' RETURNING product',
        [uploadId],
      );
      const product = upload.rows[0]?.product;
      if (product === undefined) return null;
      const { rows } = await client.query<S3PartRow>(
        'DELETE FROM s3_parts WHERE upload_id = $1 RETURNING *',
        [uploadId],
      );
      const parts = rows.map(toS3Part).sort((a, b) => a.partNumber - b.partNumber);
      await moveUsage(client, product, -parts.reduce((sum, part) => sum + part.size, 0));
      return parts;
    });
  }

  async staleS3Uploads(before: string, limit: number): Promise<S3UploadRecord[]> {
    const { rows } = await this.db().query<S3UploadRow>(
      'SELECT * FROM s3_uploads WHERE created_at < $1 ' +
        'AND (claimed_at IS NULL OR claimed_at < $1) ORDER BY created_at LIMIT $2',
      [before, limit],
    );
    return rows.map(toS3Upload);
  }
}
