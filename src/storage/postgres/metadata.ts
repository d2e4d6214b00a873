/**
 * The scale-out metadata store: PostgreSQL through `pg`, shared by any number of stateless nodes.
 * Same results and errors as the embedded SQLite store; writes are group-committed, and the audit
 * tree's head row serializes appends from every node into one tree (see audit.ts).
 */
import type pg from 'pg';
import type { SubtreeId } from '../../audit/compact.js';
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { IntegrationRecord } from '../../domain/integration.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { KeyRecord } from '../../domain/principal.js';
import type { KeySuspension, ThreatRecord } from '../../domain/threats.js';
import type {
  AuditQuery,
  ChangeEntry,
  CommitResult,
  ListArtifactsQuery,
  MetadataStore,
  ProductUsage,
  StoredAuditEntry,
  StoredCheckpoint,
  UsageFacts,
  VersionCommit,
  VersionForRead,
} from '../ports.js';
import { AuditReads, TreeAppend } from './audit.js';
import { createPool, Readers, type Queryable } from './connection.js';
import { GovernanceTables } from './governance.js';
import type { GroupCommit } from '../group-commit.js';
import { inSavepoint, pgGroupCommit, type Batch } from './group-commit.js';
import { checkSchema, migrate } from './migrations.js';
import { readUsageRows, VersionRows } from './version-rows.js';
import type { UsageCounters } from '../../domain/usage.js';
import { toVersion, toRead, VERSION_COLUMNS, type VersionRow, type ReadRow } from '../rows.js';

/**
 * What one group-commit job does: commit a version (with its audit entry), append entries, or
 * make a governance change followed by its allow entry (see withEntry).
 */
type WriteJob =
  | { readonly kind: 'version'; readonly commit: VersionCommit }
  | { readonly kind: 'audit'; readonly drafts: readonly AuditDraft[] }
  | {
      readonly kind: 'change';
      readonly run: (client: pg.PoolClient) => Promise<unknown>;
      readonly changed: (result: unknown) => boolean;
      readonly draft: AuditDraft;
    };
interface ChangeOutcome {
  readonly result: unknown;
  readonly receipt: AuditReceipt | null;
}
type WriteOutcome = CommitResult | AuditReceipt[] | ChangeOutcome;

/** How old the copy of the usage rows that usageFacts answers from may be. */
const USAGE_COPY_MS = 250;

export class PostgresMetadataStore implements MetadataStore {
  readonly kind = 'postgres';
  readonly sharedByNodes = true;
  private usageCopy: { readonly rows: UsageCounters; at: number } | null = null;
  private usageReading: Promise<UsageCounters> | null = null;
  private readonly pool: pg.Pool;
  private readonly readers: Readers;
  private readonly readOnly: boolean;
  private readonly audit: AuditReads;
  private readonly governance: GovernanceTables;
  private readonly commits: GroupCommit<WriteJob, WriteOutcome>;

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
    this.audit = new AuditReads(db);
    this.governance = new GovernanceTables(this.pool, db);
    this.commits = pgGroupCommit(this.pool, (client, jobs, isolated) =>
      this.openBatch(client, jobs, isolated),
    );
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

  async changeStamp(): Promise<string> {
    return this.governance.changeStamp();
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.commits.drain();
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

  insertKey = (key: KeyRecord, entry?: ChangeEntry) =>
    this.withEntry(entry, (client) => this.governance.insertKey(key, client));
  findKeyByHash = (hash: string) => this.governance.findKeyByHash(hash);
  getKey = (id: string) => this.governance.getKey(id);
  listKeys = () => this.governance.listKeys();
  revokeKey = (id: string, at: string, entry?: ChangeEntry) =>
    this.withEntry(
      entry,
      (client) => this.governance.revokeKey(id, at, client),
      (key) => key !== null,
    );
  setKeyHash = (id: string, hash: string) => this.governance.setKeyHash(id, hash);
  latestPolicy = () => this.governance.latestPolicy();
  insertPolicy = (policy: PolicyVersion, entry?: ChangeEntry) =>
    this.withEntry(entry, (client) => this.governance.insertPolicy(policy, client));
  listPolicies = () => this.governance.listPolicies();
  getPolicy = (version: number) => this.governance.getPolicy(version);
  insertIntegration = (record: IntegrationRecord, entry?: ChangeEntry) =>
    this.withEntry(entry, (client) => this.governance.insertIntegration(record, client));
  getIntegration = (id: string) => this.governance.getIntegration(id);
  listIntegrations = () => this.governance.listIntegrations();
  revokeIntegration = (id: string, at: string, entry?: ChangeEntry) =>
    this.withEntry(
      entry,
      (client) => this.governance.revokeIntegration(id, at, client),
      (revoked) => revoked !== null,
    );
  insertThreatRecords = (records: readonly ThreatRecord[]) =>
    this.governance.insertThreatRecords(records);
  countCriticalRequests = (principalId: string, since: string) =>
    this.governance.countCriticalRequests(principalId, since);
  threatCounts = (since: string | null) => this.governance.threatCounts(since);
  recentThreats = (limit: number) => this.governance.recentThreats(limit);
  suspendKey = (suspension: KeySuspension) => this.governance.suspendKey(suspension);
  reinstateKey = (keyId: string, entry?: ChangeEntry) =>
    this.withEntry(
      entry,
      (client) => this.governance.reinstateKey(keyId, client),
      (lifted) => lifted,
    );

  /**
   * Runs a governance change and its allow entry in a group-commit transaction (holding the audit
   * tree head), the entry after the change in the same savepoint. A change that found nothing to
   * change (`changed` false: an unknown id) appends nothing: its request fails instead. Without
   * an entry, just runs the change on the pool.
   */
  private async withEntry<T>(
    entry: ChangeEntry | undefined,
    run: (client?: pg.PoolClient) => Promise<T>,
    changed: (result: T) => boolean = () => true,
  ): Promise<T> {
    if (!entry) return run();
    const outcome = (await this.commits.submit({
      kind: 'change',
      run,
      changed: (result) => changed(result as T),
      draft: entry.draft,
    })) as ChangeOutcome;
    entry.receipt = outcome.receipt;
    return outcome.result as T;
  }
  listSuspensions = () => this.governance.listSuspensions();

  async hasArtifacts(where: { product: string } | { class: string }): Promise<boolean> {
    const { rows } =
      'product' in where
        ? await this.db.query('SELECT 1 FROM artifacts WHERE product = $1 LIMIT 1', [where.product])
        : await this.db.query('SELECT 1 FROM artifacts WHERE class = $1 LIMIT 1', [where.class]);
    return rows.length > 0;
  }

  async getHead(key: ArtifactKey): Promise<ArtifactVersion | null> {
    // Named (as every statement of a request's or a batch's path): each connection plans it once.
    const { rows } = await this.db.query<VersionRow>({
      name: 'get-head',
      text:
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = $1 AND class = $2 ` +
        'AND name = $3 ORDER BY version DESC LIMIT 1',
      values: [key.product, key.class, key.name],
    });
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async getVersion(key: ArtifactKey, version: number): Promise<ArtifactVersion | null> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = $1 AND class = $2 AND name = $3 ` +
        'AND version = $4',
      [key.product, key.class, key.name, version],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async readInline(key: ArtifactKey, version: number): Promise<Buffer | null> {
    const { rows } = await this.db.query<{ inline_content: Buffer | null }>(
      'SELECT inline_content FROM versions WHERE product = $1 AND class = $2 AND name = $3 ' +
        'AND version = $4',
      [key.product, key.class, key.name, version],
    );
    return rows[0]?.inline_content ?? null;
  }

  async getForRead(key: ArtifactKey, version?: number): Promise<VersionForRead | null> {
    const select =
      `SELECT ${VERSION_COLUMNS}, inline_content FROM versions ` +
      'WHERE product = $1 AND class = $2 AND name = $3 ';
    const { rows } =
      version === undefined
        ? await this.db.query<ReadRow>({
            name: 'get-for-read-head',
            text: select + 'ORDER BY version DESC LIMIT 1',
            values: [key.product, key.class, key.name],
          })
        : await this.db.query<ReadRow>({
            name: 'get-for-read-version',
            text: select + 'AND version = $4',
            values: [key.product, key.class, key.name, version],
          });
    return rows[0] ? toRead(rows[0]) : null;
  }

  async listVersions(key: ArtifactKey): Promise<ArtifactVersion[]> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = $1 AND class = $2 AND name = $3 ` +
        'ORDER BY version',
      [key.product, key.class, key.name],
    );
    return rows.map(toVersion);
  }

  async listArtifacts(query: ListArtifactsQuery): Promise<ArtifactVersion[]> {
    const params: unknown[] = [query.product];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ['a.product = $1', 'NOT a.tombstone'];
    if (query.class !== undefined) where.push(`a.class = ${param(query.class)}`);
    if (query.prefix !== undefined && query.prefix !== '') {
      // A range scan on the primary key instead of LIKE, so that % and _ in names are literal.
      where.push(
        `a.name >= ${param(query.prefix)} AND a.name < ${param(query.prefix + '\u{10FFFF}')}`,
      );
    }
    if (query.after !== undefined) {
      where.push(`(a.class, a.name) > (${param(query.after.class)}, ${param(query.after.name)})`);
    }
    const columns = VERSION_COLUMNS.split(', ')
      .map((c) => 'v.' + c)
      .join(', ');
    const { rows } = await this.db.query<VersionRow>(
      `SELECT ${columns} FROM artifacts a JOIN versions v ON v.product = a.product AND ` +
        'v.class = a.class AND v.name = a.name AND v.version = a.head_version ' +
        `WHERE ${where.join(' AND ')} ORDER BY a.class, a.name LIMIT ${param(query.limit)}`,
      params,
    );
    return rows.map(toVersion);
  }

  commitVersion(commit: VersionCommit): Promise<CommitResult> {
    return this.commits.submit({ kind: 'version', commit }) as Promise<CommitResult>;
  }

  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]> {
    if (drafts.length === 0) return [];
    return this.commits.submit({ kind: 'audit', drafts }) as Promise<AuditReceipt[]>;
  }

  /**
   * A group-commit transaction: the tree head locked first, so batches of all nodes serialize.
   * Version commits and appends are checked and collected in memory and written together before
   * COMMIT (VersionRows); a batch with a governance change, or one run again after a failure
   * (`isolated`), runs each write's statements in a savepoint of its own.
   */
  private async openBatch(
    client: pg.PoolClient,
    jobs: readonly WriteJob[],
    isolated: boolean,
  ): Promise<Batch<WriteJob, WriteOutcome>> {
    const tree = await TreeAppend.begin(client);
    if (isolated || jobs.some((job) => job.kind === 'change')) {
      return this.isolatedBatch(client, tree);
    }
    const commits = jobs.flatMap((job) => (job.kind === 'version' ? [job.commit] : []));
    const rows = commits.length > 0 ? await VersionRows.read(client, commits) : VersionRows.none();
    return {
      apply: (job) => {
        if (job.kind === 'audit') {
          const time = new Date().toISOString();
          return Promise.resolve(job.drafts.map((draft) => tree.append(draft, time)));
        }
        if (job.kind === 'version') return Promise.resolve(rows.commit(tree, job.commit));
        return Promise.reject(new Error('a governance change in a batch written as a whole'));
      },
      finish: () => rows.write(client, tree),
      committed: () => {
        const usage = rows.usageAfter();
        if (usage) this.usageCopy = { rows: usage, at: Date.now() };
      },
    };
  }

  private isolatedBatch(client: pg.PoolClient, tree: TreeAppend): Batch<WriteJob, WriteOutcome> {
    return {
      apply: async (job) => {
        const mark = tree.mark();
        try {
          if (job.kind === 'audit') {
            const time = new Date().toISOString();
            return job.drafts.map((draft) => tree.append(draft, time));
          }
          if (job.kind === 'change') {
            return await inSavepoint(client, async () => {
              const result = await job.run(client);
              const receipt = job.changed(result)
                ? tree.append(job.draft, new Date().toISOString())
                : null;
              return { result, receipt };
            });
          }
          return await inSavepoint(client, () => this.applyCommit(client, tree, job.commit));
        } catch (error) {
          tree.restore(mark);
          throw error;
        }
      },
      finish: () => tree.flush(client),
      // Usage may have changed without a copy of the result at hand: read it again when asked.
      committed: () => {
        this.usageCopy = null;
      },
    };
  }

  /**
   * One version commit of an isolated batch, in its savepoint: checked and written as a whole
   * batch's are (VersionRows), its entry appended to the tree the batch writes at its end.
   */
  private async applyCommit(
    client: pg.PoolClient,
    tree: TreeAppend,
    commit: VersionCommit,
  ): Promise<CommitResult> {
    const rows = await VersionRows.read(client, [commit]);
    const result = rows.commit(tree, commit);
    if (result.ok) await rows.writeVersions(client);
    return result;
  }

  async usage(product: string): Promise<ProductUsage> {
    return (await readUsageRows(this.db)).facts(product).product;
  }

  /**
   * From this node's copy of the usage rows, at most USAGE_COPY_MS old or as this node's last
   * commit left them: a write's early limit check reads it on every request. The counters only
   * grow, so a copy that lags other nodes' commits can only let through a write that the
   * commit's own check (under the tree head's lock) then refuses; it never refuses one that fits.
   */
  async usageFacts(product: string): Promise<UsageFacts> {
    const copy = this.usageCopy;
    if (copy && Date.now() - copy.at < USAGE_COPY_MS) return copy.rows.facts(product);
    this.usageReading ??= readUsageRows(this.pool).then(
      (rows) => {
        this.usageReading = null;
        this.usageCopy = { rows, at: Date.now() };
        return rows;
      },
      (error: unknown) => {
        this.usageReading = null;
        throw error;
      },
    );
    return (await this.usageReading).facts(product);
  }

  async usageByProduct(): Promise<Record<string, ProductUsage>> {
    const { rows } = await this.db.query<ProductUsage & { product: string }>(
      'SELECT product, bytes, artifacts FROM product_usage',
    );
    return Object.fromEntries(
      rows.map((row) => [row.product, { bytes: row.bytes, artifacts: row.artifacts }]),
    );
  }

  auditSize(): Promise<number> {
    return this.audit.size();
  }

  auditSubtrees(ids: readonly SubtreeId[]): Promise<Buffer[]> {
    return this.audit.subtrees(ids);
  }

  auditEntry(index: number): Promise<StoredAuditEntry | null> {
    return this.audit.entry(index);
  }

  auditEntries(query: AuditQuery): Promise<StoredAuditEntry[]> {
    return this.audit.entries(query);
  }

  auditRange(from: number, to: number): AsyncIterable<StoredAuditEntry> {
    return this.audit.range(from, to);
  }

  insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    return this.audit.insertCheckpoint(checkpoint);
  }

  latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.audit.latestCheckpoint();
  }

  checkpoints(): AsyncIterable<StoredCheckpoint> {
    return this.audit.checkpoints();
  }

  async isContentReferenced(sha256: string): Promise<boolean> {
    const { rows } = await this.db.query(
      "SELECT 1 FROM versions WHERE sha256 = $1 AND storage = 'blob' LIMIT 1",
      [sha256],
    );
    return rows.length > 0;
  }

  async *allVersions(): AsyncIterable<VersionForRead> {
    let after: [string, string, string, number] = ['', '', '', 0];
    for (;;) {
      const { rows } = await this.db.query<ReadRow>(
        `SELECT ${VERSION_COLUMNS}, inline_content FROM versions ` +
          'WHERE (product, class, name, version) > ($1, $2, $3, $4) ' +
          'ORDER BY product, class, name, version LIMIT 200',
        after,
      );
      if (rows.length === 0) return;
      for (const row of rows) yield toRead(row);
      const last = rows[rows.length - 1];
      if (!last) return;
      after = [last.product, last.class, last.name, last.version];
    }
  }
}
