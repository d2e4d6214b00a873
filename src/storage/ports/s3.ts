/**
 * The S3Store port (SPEC §13): S3 credentials of keys (secrets wrapped by the key-encryption
 * key), the S3 ETags of versions written through the S3 door, and multipart uploads with their
 * parts (the parts' bytes are blob-store temporaries, addressed by SHA-256).
 */
import type { ChangeEntry } from './change-entry.js';

export interface S3CredentialRecord {
  /** 20 characters of [A-Z0-9]. */
  readonly accessKeyId: string;
  /** The key whose principal the credential acts as. */
  readonly keyId: string;
  /** The secret access key, wrapped (storage/master-key.ts), never in clear. */
  readonly wrappedSecret: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface S3UploadRecord {
  readonly uploadId: string;
  readonly product: string;
  readonly class: string;
  readonly name: string;
  /** The principal that created it: only it may add parts, complete or abort. */
  readonly principalId: string;
  readonly contentType: string | null;
  readonly meta: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

export interface S3PartRecord {
  readonly uploadId: string;
  readonly partNumber: number;
  readonly size: number;
  /** Hex MD5 of the part (its ETag). */
  readonly md5: string;
  /** Hex SHA-256: the blob holding the part. */
  readonly sha256: string;
  readonly createdAt: string;
}

export interface S3VersionRef {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
}

export interface S3Store {
  /** Stores a new credential; the allow entry of its creation in the same transaction. */
  insertS3Credential(record: S3CredentialRecord, entry?: ChangeEntry): Promise<void>;
  getS3Credential(accessKeyId: string): Promise<S3CredentialRecord | null>;
  /** A key's credentials, revoked ones included, oldest first. */
  listS3Credentials(keyId: string): Promise<S3CredentialRecord[]>;
  /** Marks the credential revoked; null when the key has no such credential. */
  revokeS3Credential(
    keyId: string,
    accessKeyId: string,
    at: string,
    entry?: ChangeEntry,
  ): Promise<S3CredentialRecord | null>;

  /** Records the S3 ETag of a version written through the S3 door. */
  setS3Etag(ref: S3VersionRef, etag: string): Promise<void>;
  getS3Etag(ref: S3VersionRef): Promise<string | null>;

  insertS3Upload(record: S3UploadRecord): Promise<void>;
  getS3Upload(uploadId: string): Promise<S3UploadRecord | null>;
  /** A product's open uploads in (class, name, created) order, at most `limit`. */
  listS3Uploads(product: string, limit: number): Promise<S3UploadRecord[]>;
  /**
   * Stores (or replaces) a part of an upload that still exists, in one transaction with that
   * check: answers the part it replaced (or null), or `'no_upload'` (nothing stored) when the
   * upload was completed, aborted or swept meanwhile.
   */
  putS3Part(part: S3PartRecord): Promise<S3PartRecord | null | 'no_upload'>;
  listS3Parts(uploadId: string): Promise<S3PartRecord[]>;
  /** Deletes an upload and its parts; answers the parts it had. */
  deleteS3Upload(uploadId: string): Promise<S3PartRecord[]>;
  /** Uploads created before `before` (ISO-8601): abandoned, to be removed. */
  staleS3Uploads(before: string, limit: number): Promise<S3UploadRecord[]>;
}
