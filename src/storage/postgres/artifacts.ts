/**
 * The PostgreSQL store's artifacts: heads, versions, inline contents and the usage counters — the
 * ArtifactStore port. Commits go through the writer's group commit (writer.ts), which applies the
 * commit rule (domain/commit.ts) to a whole batch under the audit tree head's lock.
 */
import type { SubjectVersion } from '../../domain/subjects.js';
import type pg from 'pg';
import type { ArtifactKey, ArtifactVersion } from '../../domain/artifact.js';
import type { ProductUsage, UsageCounters, UsageFacts } from '../../domain/usage.js';
import type {
  ArtifactStore,
  AtomicCommitResult,
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
  toRead,
  toStored,
  toVersion,
  VERSION_COLUMNS,
  type ReadRow,
  type StoredRow,
  type VersionRow,
} from '../rows.js';
import type { Queryable } from './connection.js';
import { readUsageRows } from './usage-rows.js';
import type { PgWriter } from './writer.js';

/** Versions of a subject read a page at a time (SPEC §8 DSAR: never the whole set at once). */
const SUBJECT_PAGE = 200;

/** How old the copy of the usage rows that usageFacts answers from may be. */
const USAGE_COPY_MS = 250;

export class PgArtifacts implements ArtifactStore {
  private usageCopy: { readonly rows: UsageCounters; at: number } | null = null;
  private usageReading: Promise<UsageCounters> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly reads: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  private get db(): Queryable {
    return this.reads();
  }

  /**
   * The usage every product has once a batch of this node committed, or null when the batch
   * cannot say (the copy is then read again when next asked).
   */
  committed(usage: UsageCounters | null): void {
    this.usageCopy = usage ? { rows: usage, at: Date.now() } : null;
  }

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

  async listVersionsDescending(
    key: ArtifactKey,
    below: number | null,
    limit: number,
  ): Promise<ArtifactVersion[]> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE product = $1 AND class = $2 AND name = $3 ` +
        'AND version < $4 ORDER BY version DESC LIMIT $5',
      [key.product, key.class, key.name, below ?? 2 ** 31 - 1, limit],
    );
    return rows.map(toVersion);
  }

  async listArtifacts(query: ListArtifactsQuery): Promise<ArtifactVersion[]> {
    const params: unknown[] = [query.product];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ['a.product = $1'];
    if (!query.withTombstoned) where.push('NOT a.tombstone');
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
    return this.writer.commitVersion(commit);
  }

  commitVersionsAtomically(commits: readonly VersionCommit[]): Promise<AtomicCommitResult> {
    return this.writer.commitVersionsAtomically(commits);
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

  async isContentReferenced(address: string): Promise<boolean> {
    const { rows } = await this.db.query(
      "SELECT 1 FROM versions WHERE storage = 'blob' AND ((sha256 = $1 AND content_id IS NULL) " +
        'OR content_id = $1) UNION ALL SELECT 1 FROM s3_parts WHERE sha256 = $1 LIMIT 1',
      [address],
    );
    return rows.length > 0;
  }

  async countVersions(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM versions');
    return Number(rows[0]?.n ?? 0);
  }

  async *allVersions(): AsyncIterable<StoredVersion> {
    let after: [string, string, string, number] = ['', '', '', 0];
    for (;;) {
      const { rows } = await this.db.query<StoredRow>(
        `SELECT ${STORED_VERSION_COLUMNS} FROM versions ` +
          'WHERE (product, class, name, version) > ($1, $2, $3, $4) ' +
          'ORDER BY product, class, name, version LIMIT 200',
        after,
      );
      if (rows.length === 0) return;
      for (const row of rows) yield toStored(row);
      const last = rows[rows.length - 1];
      if (!last) return;
      after = [last.product, last.class, last.name, last.version];
    }
  }

  async *subjectVersions(subject: string): AsyncIterable<SubjectVersion> {
    let after: [string, string, string, number] = ['', '', '', 0];
    for (;;) {
      const { rows } = await this.db.query<SubjectRow>(
        `SELECT ${VERSION_COLUMNS}, audit_index FROM versions ` +
          'WHERE subject = $1 AND (product, class, name, version) > ($2, $3, $4, $5) ' +
          'AND NOT tombstone AND purged_at IS NULL ' +
          'ORDER BY product, class, name, version LIMIT $6',
        [subject, ...after, SUBJECT_PAGE],
      );
      for (const row of rows) yield toSubjectVersion(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < SUBJECT_PAGE) return;
      after = [last.product, last.class, last.name, last.version];
    }
  }
}
