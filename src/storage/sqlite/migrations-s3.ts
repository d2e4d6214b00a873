/**
 * The embedded store's migrations 17 and 18 (MIGRATIONS in migrations.ts appends them): the S3
 * front door's tables (SPEC §13) — credentials of keys (secrets wrapped by the key-encryption key),
 * the S3 ETags of versions written through it, multipart uploads and their parts (blob
 * temporaries, decision record 0044) — and the claim of an upload by its completion (decision
 * record 0051). PostgreSQL's migrations 14 and 15 are the same (postgres/migrations-s3.ts).
 */
export const S3_MIGRATIONS: readonly string[] = [
  // 17
  `
  CREATE TABLE s3_credentials (
    access_key_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;
  CREATE INDEX s3_credentials_by_key ON s3_credentials (key_id, created_at);
  CREATE TABLE s3_etags (
    product TEXT NOT NULL,
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (product, class, name, version)
  ) STRICT;
  CREATE TABLE s3_uploads (
    upload_id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    content_type TEXT,
    meta TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX s3_uploads_listing ON s3_uploads (product, class, name, created_at);
  CREATE INDEX s3_uploads_by_age ON s3_uploads (created_at);
  CREATE TABLE s3_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) STRICT;
  CREATE INDEX s3_parts_by_content ON s3_parts (sha256);
  `,
  // 18: the claim of an upload by its completion (decision record 0051): while set, the upload
  // takes no part and no other completion or abort; null while the upload is open.
  `
  ALTER TABLE s3_uploads ADD COLUMN claimed_at TEXT;
  `,
];
