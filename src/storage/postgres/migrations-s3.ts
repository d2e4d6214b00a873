/**
 * The PostgreSQL store's migrations 14 and 15 (MIGRATIONS in migration-steps.ts appends them), as
 * the embedded store's 17 and 18 (sqlite/migrations-s3.ts): the S3 front door's tables (SPEC §13)
 * and the claim of an upload by its completion (decision record 0051).
 */
export const PG_S3_MIGRATIONS: readonly string[] = [
  // 14: the S3 front door (SPEC §13), as in SQLite's migration 17: credentials of keys (secrets
  // wrapped by the key-encryption key), the S3 ETags of versions written through it, multipart
  // uploads and their parts (blob temporaries, decision record 0044).
  `
  CREATE TABLE s3_credentials (
    access_key_id text COLLATE "C" PRIMARY KEY,
    key_id text COLLATE "C" NOT NULL,
    secret text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    revoked_at text
  );
  CREATE INDEX s3_credentials_by_key ON s3_credentials (key_id, created_at);
  CREATE TABLE s3_etags (
    product text COLLATE "C" NOT NULL,
    class text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    version int NOT NULL,
    etag text NOT NULL,
    PRIMARY KEY (product, class, name, version)
  );
  CREATE TABLE s3_uploads (
    upload_id text COLLATE "C" PRIMARY KEY,
    product text COLLATE "C" NOT NULL,
    class text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    principal_id text NOT NULL,
    content_type text,
    meta text NOT NULL,
    created_at text COLLATE "C" NOT NULL
  );
  CREATE INDEX s3_uploads_listing ON s3_uploads (product, class, name, created_at);
  CREATE INDEX s3_uploads_by_age ON s3_uploads (created_at);
  CREATE TABLE s3_parts (
    upload_id text COLLATE "C" NOT NULL,
    part_number int NOT NULL,
    size bigint NOT NULL,
    md5 text NOT NULL,
    sha256 text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE INDEX s3_parts_by_content ON s3_parts (sha256);
  `,
  // 15: the claim of an upload by its completion (decision record 0051): while set, the upload
  // takes no part and no other completion or abort; null while the upload is open.
  `
  ALTER TABLE s3_uploads ADD COLUMN claimed_at text COLLATE "C";
  `,
];
