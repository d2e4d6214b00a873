/**
 * The S3Store port (SPEC §13): S3 credentials of keys (secrets wrapped by the key-encryption
 * key), the S3 ETags of versions written through the S3 door, and multipart uploads with their
 * parts (the parts' bytes are blob-store temporaries, addressed by SHA-256).
 */
import type { StorageLimits } from '../../domain/usage.js';
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
  /** When a completion claimed it (it then takes no part, no abort, no other completion). */
  readonly claimedAt: string | null;
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

/**
 * Where a listing of a product's uploads resumes: after every upload of a key, or after one
 * upload (in (class, name, created, upload id) order).
 */
export type S3UploadPosition =
  | { readonly class: string; readonly name: string; readonly upload?: undefined }
  | {
      readonly class: string;
      readonly name: string;
      readonly upload: { readonly createdAt: string; readonly uploadId: string };
    };

/**
 * What storing a part did: stored (replacing the part of that number, if any), or nothing — the
 * upload is gone or claimed, or the bytes the part adds would pass a storage limit.
 */
export type S3PartOutcome =
  | { readonly stored: true; readonly replaced: S3PartRecord | null }
  | { readonly stored: false; readonly reason: 'no_upload' }
  | {
      readonly stored: false;
      readonly reason: 'insufficient_storage';
      readonly rule: string;
      readonly message: string;
    };

/** What a version written through the S3 door commits with it, in its transaction. */
export interface S3CommitExtras {
  /** Its S3 ETag (`"<md5>"`, `"<md5 of part md5s>-<n>"`): stored with the version, never after. */
  readonly etag?: string | undefined;
  /**
   * The claimed multipart upload the version completes: its rows are deleted, and the bytes its
   * parts held are released as the version's are counted (decision record 0052).
   */
  readonly completesUpload?: string | undefined;
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

  /** The S3 ETag a version's commit stored (`S3CommitExtras.etag`), or null. */
  getS3Etag(ref: S3VersionRef): Promise<string | null>;

  insertS3Upload(record: S3UploadRecord): Promise<void>;
  getS3Upload(uploadId: string): Promise<S3UploadRecord | null>;
  /**
   * A product's uploads in (class, name, created, upload id) order, at most `limit`, after
   * `after` when given.
   */
  listS3Uploads(
    product: string,
    limit: number,
    after?: S3UploadPosition,
  ): Promise<S3UploadRecord[]>;
  /**
   * Stores (or replaces) a part of an upload that still exists and is not claimed, in one
   * transaction with that check and with the move of the product's usage by the bytes it adds
   * (its size, less the size of the part it replaces): refused, storing nothing, when they would
   * pass `limits` — open parts count toward the quota and the capacity (decision record 0052).
   */
  putS3Part(part: S3PartRecord, product: string, limits: StorageLimits): Promise<S3PartOutcome>;
  listS3Parts(uploadId: string): Promise<S3PartRecord[]>;
  /**
   * The bytes the parts of an upload hold, the part numbered `except` left out (one sent again
   * replaces it): summed by the store, not listed — an upload has up to 10,000 parts.
   */
  sumS3PartSizes(uploadId: string, except: number): Promise<number>;
  /**
   * Claims an open upload for its completion, atomically: answers its parts, or null when it is
   * gone or another completion holds it. A claimed upload takes no part and no abort.
   */
  claimS3Upload(uploadId: string, at: string): Promise<S3PartRecord[] | null>;
  /** Gives up a claim (its completion failed): the upload is open again. */
  releaseS3Upload(uploadId: string): Promise<void>;
  /**
   * Deletes an upload and its parts, releasing the bytes they held from the product's usage;
   * answers the parts it had, or null when there was no such upload — or, with `unlessClaimed`,
   * when a completion holds it (nothing deleted).
   */
  deleteS3Upload(uploadId: string, unlessClaimed?: boolean): Promise<S3PartRecord[] | null>;
  /**
   * Uploads created before `before` (ISO-8601), unless claimed since: abandoned, to be removed.
   */
  staleS3Uploads(before: string, limit: number): Promise<S3UploadRecord[]>;
}
