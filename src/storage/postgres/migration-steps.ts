/**
 * The PostgreSQL metadata store's migrations, in order (migrations.ts runs them). Append new ones;
 * never edit old ones. Every text column that is compared or ordered uses the "C" collation: byte
 * order, as in SQLite, whatever the database's default collation.
 */
import { RUN_OUTPUTS_MIGRATION } from './migration-runs.js';
import { PG_S3_MIGRATIONS } from './migrations-s3.js';

export const MIGRATIONS: readonly string[] = [
  // 1: everything the embedded store has after its migration 3, plus the shared audit tree head
  // and the coherence stamp.
  `
  CREATE TABLE settings (
    key text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
  );

  CREATE TABLE change_stamp (
    id int PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
  );
  INSERT INTO change_stamp (id, value) VALUES (1, 0);

  CREATE TABLE keys (
    id text COLLATE "C" PRIMARY KEY,
    hash text NOT NULL UNIQUE,
    kind text NOT NULL,
    product text COLLATE "C",
    integration_id text COLLATE "C",
    name text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    expires_at text COLLATE "C",
    revoked_at text COLLATE "C"
  );
  CREATE INDEX keys_integration ON keys (integration_id);

  CREATE TABLE policy_versions (
    version int PRIMARY KEY,
    hash text NOT NULL,
    document text NOT NULL,
    reason text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    created_by text NOT NULL
  );

  CREATE TABLE artifacts (
    product text COLLATE "C" NOT NULL,
    class text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    head_version int NOT NULL,
    tombstone boolean NOT NULL,
    PRIMARY KEY (product, class, name)
  );
  CREATE INDEX artifacts_class ON artifacts (class);

  CREATE TABLE versions (
    product text COLLATE "C" NOT NULL,
    class text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    version int NOT NULL,
    sha256 text COLLATE "C" NOT NULL,
    size bigint NOT NULL,
    content_type text NOT NULL,
    meta text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    created_by text NOT NULL,
    retention_mode text NOT NULL,
    retention_until text COLLATE "C",
    tombstone boolean NOT NULL,
    storage text NOT NULL,
    inline_content bytea,
    PRIMARY KEY (product, class, name, version)
  );
  CREATE INDEX versions_sha256 ON versions (sha256);

  CREATE TABLE product_usage (
    product text COLLATE "C" PRIMARY KEY,
    bytes bigint NOT NULL,
    artifacts bigint NOT NULL
  );

  CREATE TABLE integrations (
    id text COLLATE "C" PRIMARY KEY,
    type text NOT NULL,
    product text COLLATE "C" NOT NULL,
    classes text NOT NULL,
    data_schema text NOT NULL,
    approved_at text COLLATE "C" NOT NULL,
    approved_by text NOT NULL,
    revoked_at text COLLATE "C"
  );

  CREATE TABLE threat_records (
    seq bigserial PRIMARY KEY,
    at text COLLATE "C" NOT NULL,
    request_id text NOT NULL,
    principal_id text COLLATE "C",
    principal_kind text,
    product text,
    threat_id text COLLATE "C" NOT NULL,
    severity text NOT NULL,
    evidence text NOT NULL,
    counted boolean NOT NULL
  );
  CREATE INDEX threat_records_at ON threat_records (at);
  CREATE INDEX threat_records_principal ON threat_records (principal_id, severity, at);

  CREATE TABLE key_suspensions (
    key_id text COLLATE "C" PRIMARY KEY,
    suspended_at text NOT NULL,
    reason text NOT NULL
  );

  CREATE TABLE audit_entries (
    idx bigint PRIMARY KEY,
    time text COLLATE "C" NOT NULL,
    allow boolean NOT NULL,
    operation text NOT NULL,
    principal_id text COLLATE "C" NOT NULL,
    principal_product text COLLATE "C",
    target_product text COLLATE "C",
    target_class text COLLATE "C",
    target_name text COLLATE "C",
    threats text NOT NULL,
    canonical bytea NOT NULL,
    leaf_hash bytea NOT NULL
  );
  CREATE INDEX audit_entries_artifact ON audit_entries (target_product, target_class, target_name);

  CREATE TABLE audit_nodes (
    level int NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
  );

  -- The one tree of every node: its size and right edge (the hashes of decompose(0, size)).
  -- Appending transactions lock this row first, so appends from all nodes serialize here.
  CREATE TABLE audit_head (
    id int PRIMARY KEY CHECK (id = 1),
    size bigint NOT NULL,
    edge bytea[] NOT NULL
  );
  INSERT INTO audit_head (id, size, edge) VALUES (1, 0, '{}');

  CREATE TABLE audit_checkpoints (
    size bigint PRIMARY KEY,
    root_hash bytea NOT NULL,
    note text NOT NULL,
    created_at text NOT NULL
  );
  `,
  // 2: the event outbox (SPEC §10). The newest cursor sits in the audit tree's head row, which
  // every writing transaction locks first, so cursors follow commit order across nodes.
  `
  CREATE TABLE events (
    id bigint PRIMARY KEY,
    time text NOT NULL,
    type text NOT NULL,
    subject text NOT NULL,
    product text,
    data text NOT NULL,
    audit_index bigint
  );
  ALTER TABLE audit_head ADD COLUMN events bigint NOT NULL DEFAULT 0;
  `,
  // 3: the salt of each version's facts hash, which its audit entry carries (SPEC §8,
  // docs/decisions/0026); null for versions written before it, and once an erasure destroys it.
  `
  ALTER TABLE versions ADD COLUMN facts_salt bytea;
  `,
  // 4: integration ids are scoped by product (docs/decisions/0026): another product's id is, to a
  // product key, an unknown one. The keys bound to an integration carry its product already.
  `
  ALTER TABLE integrations DROP CONSTRAINT integrations_pkey;
  ALTER TABLE integrations ADD PRIMARY KEY (product, id);
  `,
  // 5: legal holds (SPEC §8): every hold ever placed, lifted ones kept (history).
  `
  CREATE TABLE legal_holds (
    id text COLLATE "C" PRIMARY KEY,
    scope text NOT NULL,
    case_ref text NOT NULL,
    reason text NOT NULL,
    placed_at text COLLATE "C" NOT NULL,
    placed_by text NOT NULL,
    lifted_at text COLLATE "C",
    lifted_by text,
    lift_reason text
  );
  `,
  // 6: purges (SPEC §8) on the version rows, and the retention sweep's index: versions whose
  // content is still stored, by the end of their retention (permanent ones are not in it).
  `
  ALTER TABLE versions ADD COLUMN purged_at text COLLATE "C";
  ALTER TABLE versions ADD COLUMN purge_reason text;
  ALTER TABLE versions ADD COLUMN purge_audit_index bigint;
  CREATE INDEX versions_retention_due ON versions (retention_until, product, class, name, version)
    WHERE storage <> 'none' AND retention_until IS NOT NULL;
  `,
  // 7: the mode (one row; none until the first switch: \`normal\`) and incidents (SPEC §9).
  `
  CREATE TABLE bucket_mode (
    id int PRIMARY KEY CHECK (id = 1),
    mode text NOT NULL,
    since text NOT NULL,
    reason text NOT NULL,
    by_id text NOT NULL,
    incident_id text
  );
  CREATE TABLE incidents (
    id text COLLATE "C" PRIMARY KEY,
    kind text NOT NULL,
    status text COLLATE "C" NOT NULL,
    detected_at text COLLATE "C" NOT NULL,
    evidence text NOT NULL,
    resolved_at text,
    resolved_by text,
    resolution text
  );
  CREATE INDEX incidents_status ON incidents (status, detected_at);
  `,
  // 8: webhooks (SPEC §10) with their delivery state and lease, their delivery log, and an index
  // for the events a product key reads (its product's, in cursor order).
  `
  CREATE TABLE webhooks (
    id text COLLATE "C" PRIMARY KEY,
    url text NOT NULL,
    types text NOT NULL,
    product text COLLATE "C",
    secret text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    created_by text NOT NULL,
    cursor bigint NOT NULL,
    next_attempt_at bigint NOT NULL,
    failures integer NOT NULL,
    failing_since bigint,
    disabled_at text,
    lease_owner text,
    lease_until bigint
  );
  CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    webhook_id text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id bigint NOT NULL,
    attempt integer NOT NULL,
    at text NOT NULL,
    status integer,
    error text,
    duration_ms integer NOT NULL
  );
  CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
  CREATE INDEX events_by_product ON events (product, id) WHERE product IS NOT NULL;
  `,
  // 9: data subjects (SPEC §8): each version's subject in a column of its own (from the
  // `x-bucket-meta-subject` its write named, kept in `meta` too), indexed for the subject's export
  // and erasure in the order the export pages through; and the leaf index of the entry that
  // allowed each version (the export's `auditIndex`; unknown, NULL, for versions stored before).
  `
  ALTER TABLE versions ADD COLUMN subject text COLLATE "C";
  ALTER TABLE versions ADD COLUMN audit_index bigint;
  UPDATE versions SET subject = meta::jsonb ->> 'subject' WHERE meta::jsonb ? 'subject';
  CREATE INDEX versions_subject ON versions (subject, product, class, name, version)
    WHERE subject IS NOT NULL;
  `,
  // 10: policy exceptions (SPEC §9): a time-boxed policy change, its approval and its expiry.
  `
  CREATE TABLE policy_exceptions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    justification TEXT NOT NULL,
    patch TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    product TEXT,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT,
    policy_version INTEGER,
    expires_at TEXT,
    revert_patch TEXT,
    revert_version INTEGER,
    expired_at TEXT
  );
  CREATE INDEX policy_exceptions_due ON policy_exceptions (expires_at) WHERE status = 'approved';
  `,
  // 11: subject keys and erasures (SPEC §8, docs/decisions/0033), as SQLite's 14.
  `
  CREATE TABLE subject_keys (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    wrapped TEXT,
    created_at TEXT NOT NULL,
    destroyed_at TEXT,
    erasure_id TEXT
  );
  CREATE INDEX subject_keys_live ON subject_keys (subject, created_at, id)
    WHERE destroyed_at IS NULL;
  ALTER TABLE versions ADD COLUMN sealed_key TEXT;
  ALTER TABLE versions ADD COLUMN content_id TEXT;
  CREATE INDEX versions_content_id ON versions (content_id) WHERE content_id IS NOT NULL;
  CREATE TABLE erasures (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    report TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    audit_index BIGINT NOT NULL
  );
  `,
  // 12: scrubs and signed drift baselines (SPEC §9), as in SQLite's migration 15.
  `
  CREATE TABLE scrubs (
    id text PRIMARY KEY,
    status text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    started_by text NOT NULL,
    checked text NOT NULL,
    problems text NOT NULL,
    checkpoint_size bigint,
    checkpoint_root text
  );
  CREATE INDEX scrubs_by_start ON scrubs (started_at);
  CREATE TABLE drift_baselines (
    sequence int PRIMARY KEY,
    document text NOT NULL,
    signature text NOT NULL
  );
  `,
  // 13: Core's runs (SPEC §11): indexed columns, the lease of the node executing it, and a JSON
  // body (plan, input, output, error, steps, record) written whole at every transition.
  `
  CREATE TABLE runs (
    id text COLLATE "C" PRIMARY KEY,
    status text NOT NULL,
    kind text NOT NULL,
    name text COLLATE "C" NOT NULL,
    product text COLLATE "C",
    requested_by text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    started_at text,
    finished_at text,
    deadline bigint,
    cancel_requested int NOT NULL,
    body text NOT NULL,
    lease_owner text,
    lease_until bigint
  );
  CREATE INDEX runs_queue ON runs (status, created_at, id);
  CREATE INDEX runs_listing ON runs (created_at, id);
  CREATE INDEX runs_by_name ON runs (kind, name, created_at);
  `,
  // 14, 15: the S3 front door (migrations-s3.ts).
  ...PG_S3_MIGRATIONS,
  // 16: the runs' rows keep no outputs (migration-runs.ts).
  RUN_OUTPUTS_MIGRATION,
];
