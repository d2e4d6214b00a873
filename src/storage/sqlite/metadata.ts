/** The embedded metadata store: SQLite through better-sqlite3, in WAL mode. */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { KeyRecord } from '../../domain/principal.js';
import type { SubtreeId } from '../../audit/compact.js';
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';
import type {
  AuditQuery,
  ChangeEntry,
  CommitResult,
  DurabilityStats,
  ListArtifactsQuery,
  StoredAuditEntry,
  StoredCheckpoint,
  MetadataStore,
  ProductUsage,
  UsageFacts,
  VersionCommit,
  VersionForRead,
} from '../ports.js';
import type { IntegrationRecord } from '../../domain/integration.js';
import type { KeySuspension, ThreatRecord } from '../../domain/threats.js';
import { SchemaTooNewError } from '../errors.js';
import { preparePrivateDatabase } from '../private-files.js';
import { AuditTables } from './audit.js';
import { GovernanceTables } from './governance.js';
import { HeadCache } from './head-cache.js';
import { MIGRATIONS } from './migrations.js';
import { WalSync } from './wal-sync.js';
import { loadUsage, SqliteWriter } from './writer.js';
import {
  policyValues,
  toPolicy,
  toVersion,
  toKey,
  VERSION_COLUMNS,
  type VersionRow,
  type KeyRow,
  type PolicyRow,
} from '../rows.js';

export { SchemaTooNewError };

export interface SqliteStoreOptions {
  /** Open an existing database without ever writing to it (see the constructor). */
  readonly readonly?: boolean;
  /**
   * What makes commits durable before they are acknowledged; by default an fdatasync of the
   * database's WAL file (wal-sync.ts). Tests pass one whose syncs they delay or fail.
   */
  readonly wal?: (walFile: string) => WalSync;
}

export class SqliteMetadataStore implements MetadataStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements: ReturnType<SqliteMetadataStore['prepare']>;
  private readonly writes: SqliteWriter;
  private readonly wal: WalSync;
  private readonly audit: AuditTables;
  private readonly heads = new HeadCache();
  private readonly governance: GovernanceTables;
  /**
   * The usage counters as committed, for the gate's facts: loaded once, then moved by the usage
   * each successful commit reports (this process is the database's only writer). The commit's
   * re-check of the limits uses the writer's own counters, inside its transaction.
   */
  private readonly usageCounters: ReturnType<typeof loadUsage> | null;

  private readonly readOnly: boolean;

  /**
   * `readonly: true` opens an existing database without ever writing to it (for `bucket audit
   * verify` beside a running server): nothing is created or migrated, and a schema version other
   * than this code's is refused.
   */
  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    this.readOnly = options.readonly === true;
    if (this.readOnly) {
      this.db = SqliteMetadataStore.openReadonly(file);
    } else {
      if (file !== ':memory:') preparePrivateDatabase(file, dirname(file));
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit is written to the WAL but not synced, so it survives a crash
      // of the process (kill -9). Every write is acknowledged only after the WAL's sync (`wal`,
      // wal-sync.ts), which makes it survive power loss too, without the event loop waiting on
      // the disk as it would with FULL.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
    }
    this.db.pragma('busy_timeout = 5000');
    try {
      if (this.readOnly) this.checkSchemaVersion();
      else this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.statements = this.prepare();
    this.audit = new AuditTables(this.db);
    this.usageCounters = this.readOnly ? null : loadUsage(this.db);
    // Dropped inside the commit's transaction: whether it commits or rolls back, the next read of
    // that head comes from the database.
    this.wal =
      file === ':memory:' || this.readOnly
        ? WalSync.none()
        : (options.wal ?? WalSync.forFile)(`${file}-wal`);
    this.writes = new SqliteWriter(this.db, this.wal, (key) => this.heads.delete(key));
    this.governance = new GovernanceTables(
      this.db,
      (id) => {
        const row = this.statements.keyById.get(id);
        return row ? toKey(row) : null;
      },
      () => this.statements.bumpChangeStamp.run(),
    );
  }

  private static openReadonly(file: string): Database.Database {
    try {
      return new Database(file, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw new Error(
        `cannot open the metadata database ${file} read-only (${(error as Error).message}); ` +
          'check BUCKET_DATA_DIR: a Bucket creates it on its first start',
      );
    }
  }

  private checkSchemaVersion(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) throw new SchemaTooNewError(current, MIGRATIONS.length);
    if (current !== MIGRATIONS.length) {
      throw new Error(
        `the database ${this.file} has schema version ${current}, this Bucket expects ` +
          `${MIGRATIONS.length}; start the server once on it to migrate, then verify`,
      );
    }
  }

  /**
   * Runs `fn` on one consistent state of the database while other processes keep writing: a read
   * transaction (WAL snapshot, taken at its first read), ended after `fn`. The audit tree's edge
   * is dropped at its start, so that auditSize() reads it again, from the snapshot. Only on a
   * read-only store, whose connection nothing else uses meanwhile.
   */
  async withReadSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.readOnly) {
      throw new Error('withReadSnapshot needs a store opened with { readonly: true }');
    }
    this.db.exec('BEGIN');
    try {
      this.audit.reload();
      return await fn();
    } finally {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) throw new SchemaTooNewError(current, MIGRATIONS.length);
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version] ?? '');
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      ping: db.prepare('SELECT 1'),
      getSetting: db.prepare<[string], { value: string }>(
        'SELECT value FROM settings WHERE key = ?',
      ),
      insertSetting: db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)'),
      // The coherence stamp (changeStamp) lives in settings: no schema change for a counter.
      bumpChangeStamp: db.prepare(
        "INSERT INTO settings (key, value) VALUES ('change_stamp', '1') ON CONFLICT (key) " +
          'DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)',
      ),
      insertKey: db.prepare(
        'INSERT INTO keys (id, hash, kind, product, integration_id, name, created_at, expires_at, revoked_at) ' +
          'VALUES (@id, @hash, @kind, @product, @integrationId, @name, @createdAt, @expiresAt, @revokedAt)',
      ),
      keyByHash: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE hash = ?'),
      keyById: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE id = ?'),
      listKeys: db.prepare<[], KeyRow>('SELECT * FROM keys ORDER BY created_at, id'),
      revokeKey: db.prepare('UPDATE keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
      setKeyHash: db.prepare('UPDATE keys SET hash = ? WHERE id = ?'),
      latestPolicy: db.prepare<[], PolicyRow>(
        'SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1',
      ),
      insertPolicy: db.prepare(
        'INSERT INTO policy_versions (version, hash, document, reason, created_at, created_by) ' +
          'VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listPolicies: db.prepare<[], PolicyRow>('SELECT * FROM policy_versions ORDER BY version'),
      policy: db.prepare<[number], PolicyRow>('SELECT * FROM policy_versions WHERE version = ?'),
      anyArtifactOfProduct: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM artifacts WHERE product = ? LIMIT 1',
      ),
      anyArtifactOfClass: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM artifacts WHERE class = ? LIMIT 1',
      ),
      contentReferenced: db.prepare<[string], { found: number }>(
        // storage = 'blob' lets SQLite use the partial index (migration 4).
        "SELECT 1 AS found FROM versions WHERE sha256 = ? AND storage = 'blob' LIMIT 1",
      ),
      version: db.prepare<[string, string, string, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = ? AND class = ? AND name = ? AND version = ?`,
      ),
      headForRead: db.prepare<
        [string, string, string],
        VersionRow & { inline_content: Buffer | null }
      >(
        `SELECT ${VERSION_COLUMNS}, inline_content FROM versions WHERE product = ? AND class = ? ` +
          'AND name = ? ORDER BY version DESC LIMIT 1',
      ),
      versionForRead: db.prepare<
        [string, string, string, number],
        VersionRow & { inline_content: Buffer | null }
      >(
        `SELECT ${VERSION_COLUMNS}, inline_content FROM versions WHERE product = ? AND class = ? ` +
          'AND name = ? AND version = ?',
      ),
      inline: db.prepare<[string, string, string, number], { inline_content: Buffer | null }>(
        'SELECT inline_content FROM versions WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
      versions: db.prepare<[string, string, string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = ? AND class = ? AND name = ? ORDER BY version`,
      ),
    };
  }

  async init(): Promise<void> {
    // What the WAL holds from an earlier process may not be on disk yet (it survived that
    // process, not necessarily the machine): the first checkpoint must not sign it unsynced.
    if (!this.readOnly) await this.writes.settle();
  }

  async ping(): Promise<void> {
    const failed = this.wal.failed;
    if (failed) throw failed;
    this.statements.ping.get();
  }

  durability(): DurabilityStats {
    return { syncs: this.wal.count, syncSeconds: this.wal.seconds };
  }

  async close(): Promise<void> {
    await this.wal.close();
    if (this.db.open) this.db.close();
  }

  async getSetting(key: string): Promise<string | null> {
    return this.statements.getSetting.get(key)?.value ?? null;
  }

  async setSettingOnce(key: string, value: string): Promise<string> {
    await this.durably(() => this.statements.insertSetting.run(key, value));
    return this.statements.getSetting.get(key)?.value ?? value;
  }

  async changeStamp(): Promise<string> {
    return this.statements.getSetting.get('change_stamp')?.value ?? '0';
  }

  /** Runs a governance change and moves the change stamp in one transaction. */
  private changing<T>(
    change: () => T,
    entry?: ChangeEntry,
    changed?: (result: T) => boolean,
  ): Promise<T> {
    return this.withEntry(
      entry,
      () =>
        this.db.transaction(() => {
          const result = change();
          this.statements.bumpChangeStamp.run();
          return result;
        })(),
      changed,
    );
  }

  /**
   * Runs `change` and appends its allow entry in one IMMEDIATE transaction (the change's own
   * transactions become savepoints in it); without an entry, just runs it. A change that found
   * nothing to change (`changed` false: an unknown id) appends nothing: its request fails, and
   * records that failure instead. Resolves once the change is on disk (wal-sync.ts).
   */
  private async withEntry<T>(
    entry: ChangeEntry | undefined,
    change: () => T,
    changed: (result: T) => boolean = () => true,
  ): Promise<T> {
    if (!entry) return this.durably(change);
    let receipt: AuditReceipt | null = null;
    let result: T;
    try {
      result = this.db
        .transaction(() => {
          const outcome = change();
          if (changed(outcome)) receipt = this.writes.appendWithin(entry.draft);
          return outcome;
        })
        .immediate();
    } catch (error) {
      this.writes.afterRollback();
      throw error;
    }
    await this.writes.settle();
    entry.receipt = receipt;
    return result;
  }

  /** Runs a write of its own (outside the group commit) and resolves once it is on disk. */
  private async durably<T>(write: () => T): Promise<T> {
    const result = write();
    await this.writes.settle();
    return result;
  }

  async insertKey(key: KeyRecord, entry?: ChangeEntry): Promise<void> {
    await this.changing(() => this.statements.insertKey.run(key), entry);
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | null> {
    const row = this.statements.keyByHash.get(hash);
    return row ? toKey(row) : null;
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    const row = this.statements.keyById.get(id);
    return row ? toKey(row) : null;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.statements.listKeys.all().map(toKey);
  }

  async revokeKey(id: string, at: string, entry?: ChangeEntry): Promise<KeyRecord | null> {
    await this.changing(
      () => this.statements.revokeKey.run(at, id),
      entry,
      (run) => run.changes > 0,
    );
    return this.getKey(id);
  }

  async setKeyHash(id: string, hash: string): Promise<void> {
    await this.changing(() => this.statements.setKeyHash.run(hash, id));
  }

  async latestPolicy(): Promise<PolicyVersion | null> {
    const row = this.statements.latestPolicy.get();
    return row ? toPolicy(row) : null;
  }

  async insertPolicy(policy: PolicyVersion, entry?: ChangeEntry): Promise<void> {
    await this.changing(() => this.statements.insertPolicy.run(...policyValues(policy)), entry);
  }

  async listPolicies(): Promise<PolicyVersion[]> {
    return this.statements.listPolicies.all().map(toPolicy);
  }

  async getPolicy(version: number): Promise<PolicyVersion | null> {
    const row = this.statements.policy.get(version);
    return row ? toPolicy(row) : null;
  }

  async hasArtifacts(where: { product: string } | { class: string }): Promise<boolean> {
    const row =
      'product' in where
        ? this.statements.anyArtifactOfProduct.get(where.product)
        : this.statements.anyArtifactOfClass.get(where.class);
    return row !== undefined;
  }

  async getHead(key: ArtifactKey): Promise<ArtifactVersion | null> {
    return this.readHead(key)?.version ?? null;
  }

  /** The head with its inline bytes, from the cache or (then cached) from the database. */
  private readHead(key: ArtifactKey): VersionForRead | null {
    const cached = this.heads.get(key);
    if (cached) return cached;
    const row = this.statements.headForRead.get(key.product, key.class, key.name);
    if (!row) return null;
    const head = { version: toVersion(row), inline: row.inline_content };
    this.heads.set(key, head);
    return head;
  }

  async getVersion(key: ArtifactKey, version: number): Promise<ArtifactVersion | null> {
    const row = this.statements.version.get(key.product, key.class, key.name, version);
    return row ? toVersion(row) : null;
  }

  async readInline(key: ArtifactKey, version: number): Promise<Buffer | null> {
    return (
      this.statements.inline.get(key.product, key.class, key.name, version)?.inline_content ?? null
    );
  }

  async getForRead(key: ArtifactKey, version?: number): Promise<VersionForRead | null> {
    if (version === undefined) return this.readHead(key);
    const row = this.statements.versionForRead.get(key.product, key.class, key.name, version);
    return row ? { version: toVersion(row), inline: row.inline_content } : null;
  }

  async listVersions(key: ArtifactKey): Promise<ArtifactVersion[]> {
    return this.statements.versions.all(key.product, key.class, key.name).map(toVersion);
  }

  async listArtifacts(query: ListArtifactsQuery): Promise<ArtifactVersion[]> {
    const where = ['a.product = @product', 'a.tombstone = 0'];
    const params: Record<string, string | number> = { product: query.product, limit: query.limit };
    if (query.class !== undefined) {
      where.push('a.class = @class');
      params['class'] = query.class;
    }
    if (query.prefix !== undefined && query.prefix !== '') {
      // A range scan on the primary key instead of LIKE, so that % and _ in names are literal.
      where.push('a.name >= @prefix AND a.name < @prefixEnd');
      params['prefix'] = query.prefix;
      params['prefixEnd'] = query.prefix + '\u{10FFFF}';
    }
    if (query.after !== undefined) {
      where.push('(a.class > @afterClass OR (a.class = @afterClass AND a.name > @afterName))');
      params['afterClass'] = query.after.class;
      params['afterName'] = query.after.name;
    }
    const sql =
      `SELECT ${VERSION_COLUMNS.split(', ')
        .map((c) => 'v.' + c)
        .join(', ')} FROM artifacts a JOIN versions v ` +
      'ON v.product = a.product AND v.class = a.class AND v.name = a.name AND v.version = a.head_version ' +
      `WHERE ${where.join(' AND ')} ORDER BY a.class, a.name LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as VersionRow[]).map(toVersion);
  }

  async commitVersion(commit: VersionCommit): Promise<CommitResult> {
    const result = (await this.writes.submit({ kind: 'version', commit })) as CommitResult;
    if (result.ok) {
      if (result.usage && this.usageCounters) {
        this.usageCounters.products.set(commit.version.product, result.usage.product);
        this.usageCounters.total = result.usage.total;
      }
    }
    return result;
  }

  async usage(product: string): Promise<ProductUsage> {
    return this.readUsage(product).product;
  }

  async usageFacts(product: string): Promise<UsageFacts> {
    return this.readUsage(product);
  }

  async usageByProduct(): Promise<Record<string, ProductUsage>> {
    return Object.fromEntries((this.usageCounters ?? loadUsage(this.db)).products);
  }

  private readUsage(product: string): UsageFacts {
    // A read-only store (verify) sees other processes' commits: it never keeps the counters.
    const counters = this.usageCounters ?? loadUsage(this.db);
    return {
      product: counters.products.get(product) ?? { bytes: 0, artifacts: 0 },
      total: counters.total,
    };
  }

  async insertIntegration(record: IntegrationRecord, entry?: ChangeEntry): Promise<void> {
    await this.withEntry(entry, () => this.governance.insertIntegration(record));
  }

  async getIntegration(id: string): Promise<IntegrationRecord | null> {
    return this.governance.getIntegration(id);
  }

  async listIntegrations(): Promise<IntegrationRecord[]> {
    return this.governance.listIntegrations();
  }

  async revokeIntegration(id: string, at: string, entry?: ChangeEntry) {
    return this.withEntry(
      entry,
      () => this.governance.revokeIntegration(id, at),
      (revoked) => revoked !== null,
    );
  }

  /**
   * Not synced on its own: nothing acknowledges threat records, and the request that found them
   * appends its audit entry next, whose sync covers them (the WAL is written in order).
   */
  async insertThreatRecords(records: readonly ThreatRecord[]): Promise<void> {
    this.governance.insertThreatRecords(records);
  }

  async countCriticalRequests(principalId: string, since: string): Promise<number> {
    return this.governance.countCriticalRequests(principalId, since);
  }

  async threatCounts(since: string | null): Promise<Record<string, number>> {
    return this.governance.threatCounts(since);
  }

  async recentThreats(limit: number): Promise<ThreatRecord[]> {
    return this.governance.recentThreats(limit);
  }

  async suspendKey(suspension: KeySuspension): Promise<void> {
    await this.durably(() => this.governance.suspendKey(suspension));
  }

  async reinstateKey(keyId: string, entry?: ChangeEntry): Promise<boolean> {
    return this.withEntry(
      entry,
      () => this.governance.reinstateKey(keyId),
      (lifted) => lifted,
    );
  }

  async listSuspensions(): Promise<KeySuspension[]> {
    return this.governance.listSuspensions();
  }

  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]> {
    if (drafts.length === 0) return [];
    return (await this.writes.submit({ kind: 'audit', drafts })) as AuditReceipt[];
  }

  async auditSize(): Promise<number> {
    // Read-only, the size of the snapshot being read; otherwise what this store has committed.
    return this.readOnly ? this.audit.size : this.writes.auditSize;
  }

  async auditSubtrees(ids: readonly SubtreeId[]): Promise<Buffer[]> {
    return this.audit.subtrees(ids);
  }

  async auditEntry(index: number): Promise<StoredAuditEntry | null> {
    return this.audit.entry(index);
  }

  async auditEntries(query: AuditQuery): Promise<StoredAuditEntry[]> {
    return this.audit.entries(query);
  }

  auditRange(from: number, to: number): AsyncIterable<StoredAuditEntry> {
    return this.audit.range(from, to);
  }

  async insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.durably(() => this.audit.insertCheckpoint(checkpoint));
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.audit.latestCheckpoint();
  }

  checkpoints(): AsyncIterable<StoredCheckpoint> {
    return this.audit.checkpoints();
  }

  async isContentReferenced(sha256: string): Promise<boolean> {
    return this.statements.contentReferenced.get(sha256) !== undefined;
  }

  async *allVersions(): AsyncIterable<VersionForRead> {
    type Row = VersionRow & { inline_content: Buffer | null };
    const page = this.db.prepare<[string, string, string, number, number], Row>(
      `SELECT ${VERSION_COLUMNS}, inline_content FROM versions ` +
        'WHERE (product, class, name, version) > (?, ?, ?, ?) ' +
        'ORDER BY product, class, name, version LIMIT ?',
    );
    let after: [string, string, string, number] = ['', '', '', 0];
    for (;;) {
      const rows = page.all(...after, 200);
      if (rows.length === 0) return;
      for (const row of rows) yield { version: toVersion(row), inline: row.inline_content };
      const last = rows[rows.length - 1];
      if (!last) return;
      after = [last.product, last.class, last.name, last.version];
    }
  }
}
