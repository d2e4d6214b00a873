/** Versioned schema of the embedded metadata store. Append new migrations; never edit old ones. */
import { S3_MIGRATIONS } from './migrations-s3.js';

/**
 * Migration 19: a run's row keeps references to its steps' agent_output artifacts, not their
 * outputs (docs/decisions/0057): the outputs rows written before hold are removed — the run's own
 * and each step's (baskets had at most 50 steps). Nothing else in the body changes.
 */
export const RUN_OUTPUTS_MIGRATION = `
  UPDATE runs SET body = json_remove(body, '$.output', ${Array.from(
    { length: 50 },
    (_, i) => `'$.steps[${i}].output'`,
  ).join(', ')});
  `;

export const MIGRATIONS: readonly string[] = [
  // 1: settings, keys, policy versions, artifacts (heads), versions, per-product usage.
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    product TEXT,
    integration_id TEXT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
  ) STRICT;

  CREATE TABLE policy_versions (
    version INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    document TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
  ) STRICT;

  CREATE TABLE artifacts (
    product TEXT NOT NULL,
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    head_version INTEGER NOT NULL,
    tombstone INTEGER NOT NULL,
    PRIMARY KEY (product, class, name)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE versions (
    product TEXT NOT NULL,
    class TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    meta TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    retention_mode TEXT NOT NULL,
    retention_until TEXT,
    tombstone INTEGER NOT NULL,
    storage TEXT NOT NULL,
    inline_content BLOB,
    PRIMARY KEY (product, class, name, version)
  ) STRICT;
  CREATE INDEX versions_sha256 ON versions (sha256);

  CREATE TABLE product_usage (
    product TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    artifacts INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: integrations (the gate issue), threat records, key suspensions.
  `
  CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    product TEXT NOT NULL,
    classes TEXT NOT NULL,
    data_schema TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;
  CREATE INDEX keys_integration ON keys (integration_id);

  CREATE TABLE threat_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    principal_id TEXT,
    principal_kind TEXT,
    product TEXT,
    threat_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    evidence TEXT NOT NULL,
    counted INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX threat_records_at ON threat_records (at);
  CREATE INDEX threat_records_principal ON threat_records (principal_id, severity, at);

  CREATE TABLE key_suspensions (
    key_id TEXT PRIMARY KEY,
    suspended_at TEXT NOT NULL,
    reason TEXT NOT NULL
  ) STRICT;
  `,
  // 3: the audit log (SPEC §6): entries with their exact canonical bytes and leaf hashes, the
  // tree's stored complete subtrees above the leaves, and every checkpoint issued.
  `
  CREATE TABLE audit_entries (
    idx INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    allow INTEGER NOT NULL,
    operation TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    principal_product TEXT,
    target_product TEXT,
    target_class TEXT,
    target_name TEXT,
    threats TEXT NOT NULL,
    canonical BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
  ) STRICT;
  CREATE INDEX audit_entries_artifact ON audit_entries (target_product, target_class, target_name);

  CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  `,
  // 4: the content index covers blob contents only — the one question it answers is whether a
  // blob is still referenced (the orphan sweep). Indexing every inline content's digest cost each
  // small write a random page of the index.
  `
  DROP INDEX versions_sha256;
  CREATE INDEX versions_blob_sha256 ON versions (sha256) WHERE storage = 'blob';
  `,
  // 5: the event outbox (SPEC §10): one row per event, written in its change's transaction; the
  // id is the cursor (assigned by the single writer, consecutive from 1).
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    product TEXT,
    data TEXT NOT NULL,
    audit_index INTEGER
  ) STRICT;
  `,
  // 6: the salt of each version's facts hash, which its audit entry carries (SPEC §8,
  // docs/decisions/0026); null for versions written before it, and once an erasure destroys it.
  `
  ALTER TABLE versions ADD COLUMN facts_salt BLOB;
  `,
  // 7: integration ids are scoped by product (docs/decisions/0026): another product's id is, to a
  // product key, an unknown one. The keys bound to an integration carry its product already.
  `
  CREATE TABLE integrations_by_product (
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    product TEXT NOT NULL,
    classes TEXT NOT NULL,
    data_schema TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (product, id)
  ) STRICT;
  INSERT INTO integrations_by_product
    SELECT id, type, product, classes, data_schema, approved_at, approved_by, revoked_at
    FROM integrations;
  DROP TABLE integrations;
  ALTER TABLE integrations_by_product RENAME TO integrations;
  `,
  // 8: legal holds (SPEC §8): every hold ever placed, lifted ones kept (history).
  `
  CREATE TABLE legal_holds (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    case_ref TEXT NOT NULL,
    reason TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    lifted_at TEXT,
    lifted_by TEXT,
    lift_reason TEXT
  ) STRICT;
  `,
  // 9: purges (SPEC §8) on the version rows, and the retention sweep's index: versions whose
  // content is still stored, by the end of their retention (permanent ones are not in it).
  `
  ALTER TABLE versions ADD COLUMN purged_at TEXT;
  ALTER TABLE versions ADD COLUMN purge_reason TEXT;
  ALTER TABLE versions ADD COLUMN purge_audit_index INTEGER;
  CREATE INDEX versions_retention_due ON versions (retention_until, product, class, name, version)
    WHERE storage <> 'none' AND retention_until IS NOT NULL;
  `,
  // 10: the mode (one row; none until the first switch: \`normal\`) and incidents (SPEC §9).
  `
  CREATE TABLE bucket_mode (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL,
    since TEXT NOT NULL,
    reason TEXT NOT NULL,
    by_id TEXT NOT NULL,
    incident_id TEXT
  ) STRICT;
  CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    evidence TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT
  ) STRICT;
  CREATE INDEX incidents_status ON incidents (status, detected_at);
  `,
  // 11: webhooks (SPEC §10) with their delivery state (the cursor, the next attempt, the failures
  // and the lease of the node delivering them) and their delivery log; and an index for the
  // events a product key reads (its product's, in cursor order).
  `
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    types TEXT NOT NULL,
    product TEXT,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    failing_since INTEGER,
    disabled_at TEXT,
    lease_owner TEXT,
    lease_until INTEGER
  ) STRICT;
  CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
  CREATE INDEX events_by_product ON events (product, id) WHERE product IS NOT NULL;
  `,
  // 12: data subjects (SPEC §8): each version's subject in a column of its own (from the
  // `x-bucket-meta-subject` its write named, kept in `meta` too), indexed for the subject's export
  // and erasure in the order the export pages through; and the leaf index of the entry that
  // allowed each version (the export's `auditIndex`; unknown, NULL, for versions stored before).
  `
  ALTER TABLE versions ADD COLUMN subject TEXT;
  ALTER TABLE versions ADD COLUMN audit_index INTEGER;
  UPDATE versions SET subject = json_extract(meta, '$.subject')
    WHERE json_extract(meta, '$.subject') IS NOT NULL;
  CREATE INDEX versions_subject ON versions (subject, product, class, name, version)
    WHERE subject IS NOT NULL;
  `,
  // 13: policy exceptions (SPEC §9): a time-boxed policy change, its approval and its expiry.
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
  ) STRICT;
  CREATE INDEX policy_exceptions_due ON policy_exceptions (expires_at) WHERE status = 'approved';
  `,
  // 14: subject keys and erasures (SPEC §8, docs/decisions/0033). Each subject's data keys,
  // wrapped by the key-encryption key, destroyed (the wrapped key removed) by an erasure; each
  // sealed version's key and content id (its blob's address); every erasure's report.
  `
  CREATE TABLE subject_keys (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    wrapped TEXT,
    created_at TEXT NOT NULL,
    destroyed_at TEXT,
    erasure_id TEXT
  ) STRICT;
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
    audit_index INTEGER NOT NULL
  ) STRICT;
  `,
  // 15: scrubs (SPEC §9: the state GET /v1/governance/scrub/{id} answers on any node, the last
  // scrubbed checkpoint) and signed drift baselines (one per first start or upgrade).
  `
  CREATE TABLE scrubs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    started_by TEXT NOT NULL,
    checked TEXT NOT NULL,
    problems TEXT NOT NULL,
    checkpoint_size INTEGER,
    checkpoint_root TEXT
  ) STRICT;
  CREATE INDEX scrubs_by_start ON scrubs (started_at);
  CREATE TABLE drift_baselines (
    sequence INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    signature TEXT NOT NULL
  ) STRICT;
  `,
  // 16: Core's runs (SPEC §11): indexed columns, the lease of the node executing it, and a JSON
  // body (plan, input, output, error, steps, record) written whole at every transition.
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    product TEXT,
    requested_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    deadline INTEGER,
    cancel_requested INTEGER NOT NULL,
    body TEXT NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER
  ) STRICT;
  CREATE INDEX runs_queue ON runs (status, created_at, id);
  CREATE INDEX runs_listing ON runs (created_at, id);
  CREATE INDEX runs_by_name ON runs (kind, name, created_at);
  `,
  // 17, 18: the S3 front door (migrations-s3.ts).
  ...S3_MIGRATIONS,
  // 19: the runs' rows keep no outputs (RUN_OUTPUTS_MIGRATION above).
  RUN_OUTPUTS_MIGRATION,
];
