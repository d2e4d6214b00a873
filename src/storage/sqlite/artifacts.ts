/**
 * The embedded store's artifacts: heads (through a bounded cache), versions, inline contents and
 * the usage counters — the ArtifactStore port. Commits go through the writer's group commit
 * (writer.ts), which applies the commit rule (domain/commit.ts).
 */
import type { SubjectVersion } from '../../domain/subjects.js';
import type Database from 'better-sqlite3';
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { ProductUsage, UsageCounters, UsageFacts } from '../../domain/usage.js';
import { AtomicRefusal } from '../errors.js';
import type {
  ArtifactStore,
  AtomicCommitResult,
  CommitDone,
  CommitResult,
  ListArtifactsQuery,
  StoredVersion,
  VersionCommit,
  VersionForRead,
} from '../ports.js';
import {
  STORED_VERSION_COLUMNS,
  toSubjectVersion,
  type SubjectRow,
  toStored,
  toVersion,
  VERSION_COLUMNS,
  type ReadRow,
  type StoredRow,
  type VersionRow,
} from '../rows.js';
import type { HeadCache } from './head-cache.js';
import { loadUsage, type SqliteWriter } from './writer.js';

/** Versions of a subject read a page at a time (SPEC §8 DSAR: never the whole set at once). */
const SUBJECT_PAGE = 200;

export class SqliteArtifacts implements ArtifactStore {
  private readonly statements;
  /**
   * The usage counters as committed, for the gate's facts: loaded once, then moved by the usage
   * each successful commit reports (this process is the database's only writer); null on a
   * read-only store, which sees other processes' commits. The commit's re-check of the limits
   * uses the writer's own counters, inside its transaction.
   */
  private readonly usageCounters: UsageCounters | null;
  private readonly othersCommitted: (() => boolean) | null;
  private readonly headsStamp: () => string;
  private lastHeadsStamp: string;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
    private readonly heads: HeadCache,
    options: {
      readonly readOnly: boolean;
      /** Other processes write the database too (issue 21): true once after each of their commits. */
      readonly othersCommitted: (() => boolean) | null;
      /** Moves of heads so far, by any process (shared stores count them). */
      readonly headsStamp: () => string;
    },
  ) {
    this.othersCommitted = options.othersCommitted;
    this.headsStamp = options.headsStamp;
    this.lastHeadsStamp = this.othersCommitted ? this.headsStamp() : '';
    // Shared with other processes, like read-only, the counters are read where they are needed.
    this.usageCounters = options.readOnly || this.othersCommitted ? null : loadUsage(db);
    // S3 parts held and released move the usage outside version commits (decision record 0052).
    writer.onUsageMoved((product, usage) => this.usageCounters?.commit(product, usage));
    this.statements = {
      anyOfProduct: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM artifacts WHERE product = ? LIMIT 1',
      ),
      anyOfClass: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM artifacts WHERE class = ? LIMIT 1',
      ),
      contentReferenced: db.prepare<[string], { found: number }>(
        // storage = 'blob' lets SQLite use the partial index (migration 4).
        "SELECT 1 AS found FROM versions WHERE sha256 = ? AND storage = 'blob' " +
          'AND content_id IS NULL LIMIT 1',
      ),
      sealedReferenced: db.prepare<[string], { found: number }>(
        "SELECT 1 AS found FROM versions WHERE content_id = ? AND storage = 'blob' LIMIT 1",
      ),
      // A part of an open S3 multipart upload (SPEC §13) keeps its blob too.
      partReferenced: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM s3_parts WHERE sha256 = ? LIMIT 1',
      ),
      version: db.prepare<[string, string, string, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = ? AND class = ? AND name = ? AND version = ?`,
      ),
      headForRead: db.prepare<[string, string, string], ReadRow>(
        `SELECT ${VERSION_COLUMNS}, inline_content FROM versions WHERE product = ? AND class = ? ` +
          'AND name = ? ORDER BY version DESC LIMIT 1',
      ),
      versionForRead: db.prepare<[string, string, string, number], ReadRow>(
        `SELECT ${VERSION_COLUMNS}, inline_content FROM versions WHERE product = ? AND class = ? ` +
          'AND name = ? AND version = ?',
      ),
      inline: db.prepare<[string, string, string, number], { inline_content: Buffer | null }>(
        'SELECT inline_content FROM versions WHERE product = ? AND class = ? AND name = ? AND version = ?',
      ),
      versions: db.prepare<[string, string, string], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = ? AND class = ? AND name = ? ORDER BY version`,
      ),
      versionsDescending: db.prepare<[string, string, string, number, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = ? AND class = ? AND name = ? ` +
          'AND version < ? ORDER BY version DESC LIMIT ?',
      ),
    };
  }

  async hasArtifacts(where: { product: string } | { class: string }): Promise<boolean> {
    const row =
      'product' in where
        ? this.statements.anyOfProduct.get(where.product)
        : this.statements.anyOfClass.get(where.class);
    return row !== undefined;
  }

  async getHead(key: ArtifactKey): Promise<ArtifactVersion | null> {
    return this.readHead(key)?.version ?? null;
  }

  /** The head with its inline bytes, from the cache or (then cached) from the database. */
  private readHead(key: ArtifactKey): VersionForRead | null {
    // Another process committed: if it moved any head, the cache starts again from the database.
    if (this.othersCommitted?.()) {
      const stamp = this.headsStamp();
      if (stamp !== this.lastHeadsStamp) {
        this.heads.clear();
        this.lastHeadsStamp = stamp;
      }
    }
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

  async listVersionsDescending(
    key: ArtifactKey,
    below: number | null,
    limit: number,
  ): Promise<ArtifactVersion[]> {
    return this.statements.versionsDescending
      .all(key.product, key.class, key.name, below ?? Number.MAX_SAFE_INTEGER, limit)
      .map(toVersion);
  }

  async listArtifacts(query: ListArtifactsQuery): Promise<ArtifactVersion[]> {
    const where = ['a.product = @product'];
    if (!query.withTombstoned) where.push('a.tombstone = 0');
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
    const result = (await this.writer.submit({ kind: 'version', commit })) as CommitResult;
    if (result.ok && result.usage && this.usageCounters) {
      this.usageCounters.commit(commit.version.product, result.usage);
    }
    return result;
  }

  async commitVersionsAtomically(commits: readonly VersionCommit[]): Promise<AtomicCommitResult> {
    let results: CommitResult[];
    try {
      results = (await this.writer.submit({ kind: 'versions', commits })) as CommitResult[];
    } catch (error) {
      if (!(error instanceof AtomicRefusal)) throw error;
      return { ok: false, index: error.index, refusal: error.refusal };
    }
    const done = results.filter((result): result is CommitDone => result.ok);
    for (const [index, result] of done.entries()) {
      const product = commits[index]?.version.product;
      if (result.usage && this.usageCounters && product) {
        this.usageCounters.commit(product, result.usage);
      }
    }
    return { ok: true, results: done };
  }

  async usage(product: string): Promise<ProductUsage> {
    return this.readUsage().facts(product).product;
  }

  async usageFacts(product: string): Promise<UsageFacts> {
    return this.readUsage().facts(product);
  }

  async usageByProduct(): Promise<Record<string, ProductUsage>> {
    return this.readUsage().byProduct();
  }

  private readUsage(): UsageCounters {
    return this.usageCounters ?? loadUsage(this.db);
  }

  async isContentReferenced(address: string): Promise<boolean> {
    return (
      this.statements.contentReferenced.get(address) !== undefined ||
      this.statements.sealedReferenced.get(address) !== undefined ||
      this.statements.partReferenced.get(address) !== undefined
    );
  }

  async countVersions(): Promise<number> {
    const row = this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM versions').get();
    return row?.n ?? 0;
  }

  async *allVersions(): AsyncIterable<StoredVersion> {
    const page = this.db.prepare<[string, string, string, number, number], StoredRow>(
      `SELECT ${STORED_VERSION_COLUMNS} FROM versions ` +
        'WHERE (product, class, name, version) > (?, ?, ?, ?) ' +
        'ORDER BY product, class, name, version LIMIT ?',
    );
    let after: [string, string, string, number] = ['', '', '', 0];
    for (;;) {
      const rows = page.all(...after, 200);
      if (rows.length === 0) return;
      for (const row of rows) yield toStored(row);
      const last = rows[rows.length - 1];
      if (!last) return;
      after = [last.product, last.class, last.name, last.version];
    }
  }

  async *subjectVersions(subject: string): AsyncIterable<SubjectVersion> {
    const page = this.db.prepare<[string, string, string, string, number, number], SubjectRow>(
      `SELECT ${VERSION_COLUMNS}, audit_index FROM versions INDEXED BY versions_subject ` +
        'WHERE subject = ? AND (product, class, name, version) > (?, ?, ?, ?) ' +
        'AND tombstone = 0 AND purged_at IS NULL ' +
        'ORDER BY product, class, name, version LIMIT ?',
    );
    let after: [string, string, string, number] = ['', '', '', 0];
    for (;;) {
      const rows = page.all(subject, ...after, SUBJECT_PAGE);
      for (const row of rows) yield toSubjectVersion(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < SUBJECT_PAGE) return;
      after = [last.product, last.class, last.name, last.version];
    }
  }
}
