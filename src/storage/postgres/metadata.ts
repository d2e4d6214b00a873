/**
 * The scale-out metadata store: PostgreSQL through `pg`, shared by any number of stateless nodes.
 * Same results and errors as the embedded SQLite store; one object per port (keys.ts,
 * policies.ts, artifacts.ts, governance.ts, audit.ts) over one pool, writes group-committed by
 * writer.ts, and the audit tree's head row serializing appends from every node into one tree.
 */
import type pg from 'pg';
import type {
  ArtifactStore,
  AuditStore,
  GovernanceStore,
  KeyStore,
  MetadataStore,
  PolicyStore,
} from '../ports.js';
import { PgArtifacts } from './artifacts.js';
import { AuditReads } from './audit.js';
import { readChangeStamp } from './change-stamp.js';
import { createPool, Readers, type Queryable } from './connection.js';
import { PgGovernance } from './governance.js';
import { PgKeys } from './keys.js';
import { checkSchema, migrate } from './migrations.js';
import { PgPolicies } from './policies.js';
import { PgWriter } from './writer.js';

export class PostgresMetadataStore implements MetadataStore {
  readonly kind = 'postgres';
  /** Every node of a scale-out Bucket writes the same database. */
  readonly sharedByNodes = true;
  private readonly pool: pg.Pool;
  private readonly readers: Readers;
  private readonly readOnly: boolean;
  private readonly writer: PgWriter;
  private readonly keys: PgKeys;
  private readonly policies: PgPolicies;
  private readonly artifacts: PgArtifacts;
  private readonly governance: PgGovernance;
  private readonly audit: AuditReads;

  /**
   * `readonly: true` never creates or migrates anything (for `bucket audit verify` beside running
   * nodes): its sessions are read-only, and init() refuses a schema other than this code's.
   * A write waits `lockTimeoutMs` (default 5 s) at most for the audit tree head, then fails.
   */
  constructor(
    private readonly url: string,
    options: { readonly?: boolean; poolSize?: number; lockTimeoutMs?: number } = {},
  ) {
    this.readOnly = options.readonly === true;
    this.pool = createPool(url, {
      readonly: this.readOnly,
      size: options.poolSize ?? 10,
      lockTimeoutMs: options.lockTimeoutMs ?? 5000,
    });
    this.readers = new Readers(this.pool);
    const db = () => this.readers.current;
    this.writer = new PgWriter(this.pool, (usage) => this.artifacts.committed(usage));
    this.keys = new PgKeys(this.pool, db, this.writer);
    this.policies = new PgPolicies(this.pool, db, this.writer);
    this.artifacts = new PgArtifacts(this.pool, db, this.writer);
    this.governance = new PgGovernance(this.pool, db, this.writer);
    this.audit = new AuditReads(db);
  }

  private get db(): Queryable {
    return this.readers.current;
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      if (this.readOnly) await checkSchema(client, new URL(this.url).pathname.slice(1));
      else await migrate(client);
    } finally {
      client.release();
    }
  }

  /** Every read of `fn` sees one REPEATABLE READ snapshot, while other nodes keep appending. */
  withReadSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    return this.readers.withSnapshot(fn);
  }

  changeStamp(): Promise<string> {
    return readChangeStamp(this.db);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.writer.drain();
    await this.pool.end();
  }

  async getSetting(key: string): Promise<string | null> {
    const { rows } = await this.db.query<{ value: string }>(
      'SELECT value FROM settings WHERE key = $1',
      [key],
    );
    return rows[0]?.value ?? null;
  }

  async setSettingOnce(key: string, value: string): Promise<string> {
    await this.pool.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [key, value],
    );
    return (await this.getSetting(key)) ?? value;
  }

  insertKey: KeyStore['insertKey'] = (key, entry) => this.keys.insertKey(key, entry);
  findKeyByHash: KeyStore['findKeyByHash'] = (hash) => this.keys.findKeyByHash(hash);
  getKey: KeyStore['getKey'] = (id) => this.keys.getKey(id);
  listKeys: KeyStore['listKeys'] = () => this.keys.listKeys();
  revokeKey: KeyStore['revokeKey'] = (id, at, entry) => this.keys.revokeKey(id, at, entry);
  setKeyHash: KeyStore['setKeyHash'] = (id, hash) => this.keys.setKeyHash(id, hash);

  latestPolicy: PolicyStore['latestPolicy'] = () => this.policies.latestPolicy();
  insertPolicy: PolicyStore['insertPolicy'] = (policy, entry) =>
    this.policies.insertPolicy(policy, entry);
  listPolicies: PolicyStore['listPolicies'] = () => this.policies.listPolicies();
  getPolicy: PolicyStore['getPolicy'] = (version) => this.policies.getPolicy(version);

  hasArtifacts: ArtifactStore['hasArtifacts'] = (where) => this.artifacts.hasArtifacts(where);
  getHead: ArtifactStore['getHead'] = (key) => this.artifacts.getHead(key);
  getVersion: ArtifactStore['getVersion'] = (key, version) =>
    this.artifacts.getVersion(key, version);
  readInline: ArtifactStore['readInline'] = (key, version) =>
    this.artifacts.readInline(key, version);
  getForRead: ArtifactStore['getForRead'] = (key, version) =>
    this.artifacts.getForRead(key, version);
  listVersions: ArtifactStore['listVersions'] = (key) => this.artifacts.listVersions(key);
  listArtifacts: ArtifactStore['listArtifacts'] = (query) => this.artifacts.listArtifacts(query);
  commitVersion: ArtifactStore['commitVersion'] = (commit) => this.artifacts.commitVersion(commit);
  usage: ArtifactStore['usage'] = (product) => this.artifacts.usage(product);
  usageFacts: ArtifactStore['usageFacts'] = (product) => this.artifacts.usageFacts(product);
  usageByProduct: ArtifactStore['usageByProduct'] = () => this.artifacts.usageByProduct();
  isContentReferenced: ArtifactStore['isContentReferenced'] = (sha256) =>
    this.artifacts.isContentReferenced(sha256);
  allVersions: ArtifactStore['allVersions'] = () => this.artifacts.allVersions();

  insertIntegration: GovernanceStore['insertIntegration'] = (record, entry) =>
    this.governance.insertIntegration(record, entry);
  getIntegration: GovernanceStore['getIntegration'] = (id) => this.governance.getIntegration(id);
  listIntegrations: GovernanceStore['listIntegrations'] = () => this.governance.listIntegrations();
  revokeIntegration: GovernanceStore['revokeIntegration'] = (id, at, entry) =>
    this.governance.revokeIntegration(id, at, entry);
  insertThreatRecords: GovernanceStore['insertThreatRecords'] = (records) =>
    this.governance.insertThreatRecords(records);
  countCriticalRequests: GovernanceStore['countCriticalRequests'] = (principalId, since) =>
    this.governance.countCriticalRequests(principalId, since);
  threatCounts: GovernanceStore['threatCounts'] = (since) => this.governance.threatCounts(since);
  recentThreats: GovernanceStore['recentThreats'] = (limit) => this.governance.recentThreats(limit);
  suspendKey: GovernanceStore['suspendKey'] = (suspension) =>
    this.governance.suspendKey(suspension);
  reinstateKey: GovernanceStore['reinstateKey'] = (keyId, entry) =>
    this.governance.reinstateKey(keyId, entry);
  listSuspensions: GovernanceStore['listSuspensions'] = () => this.governance.listSuspensions();

  appendAudit: AuditStore['appendAudit'] = (drafts) => this.writer.appendAudit(drafts);
  auditSize: AuditStore['auditSize'] = () => this.audit.size();
  auditSubtrees: AuditStore['auditSubtrees'] = (ids) => this.audit.subtrees(ids);
  auditEntry: AuditStore['auditEntry'] = (index) => this.audit.entry(index);
  auditEntries: AuditStore['auditEntries'] = (query) => this.audit.entries(query);
  auditRange: AuditStore['auditRange'] = (from, to) => this.audit.range(from, to);
  insertCheckpoint: AuditStore['insertCheckpoint'] = (checkpoint) =>
    this.audit.insertCheckpoint(checkpoint);
  latestCheckpoint: AuditStore['latestCheckpoint'] = () => this.audit.latestCheckpoint();
  checkpoints: AuditStore['checkpoints'] = () => this.audit.checkpoints();
}
