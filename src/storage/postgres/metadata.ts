/**
 * The scale-out metadata store: PostgreSQL through `pg`, shared by any number of stateless nodes.
 * Same results and errors as the embedded SQLite store; one object per port (keys.ts,
 * policies.ts, artifacts.ts, governance.ts, audit.ts) over one pool, writes group-committed by
 * writer.ts, and the audit tree's head row serializing appends from every node into one tree.
 */
import type pg from 'pg';
import { ComposedMetadataStore } from '../compose.js';
import type { MetadataStore } from '../ports.js';
import { PgExceptions } from './exceptions.js';
import { PgArtifacts } from './artifacts.js';
import { PgAuditLog } from './audit.js';
import { readChangeStamp } from './change-stamp.js';
import { createPool, Readers, type Queryable } from './connection.js';
import { PgEvents } from './events.js';
import { PgGovernance } from './governance.js';
import { PgIntegrity } from './integrity.js';
import { PgKeys } from './keys.js';
import { checkSchema, migrate } from './migrations.js';
import { PgModes } from './modes.js';
import { PgPolicies } from './policies.js';
import { PgRetention } from './retention.js';
import { PgRuns } from './runs.js';
import { PgS3 } from './s3.js';
import { PgSubjects } from './subjects.js';
import { PgWebhooks } from './webhooks.js';
import { PgWriter } from './writer.js';

export class PostgresMetadataStore extends ComposedMetadataStore implements MetadataStore {
  readonly kind = 'postgres';
  /** Every node of a scale-out Bucket writes the same database. */
  readonly sharedByNodes = true;
  private readonly pool: pg.Pool;
  private readonly readers: Readers;
  private readonly readOnly: boolean;
  private readonly writer: PgWriter;
  private readonly eventLog: PgEvents;

  /**
   * `readonly: true` never creates or migrates anything (for `bucket audit verify` beside running
   * nodes): its sessions are read-only, and init() refuses a schema other than this code's.
   * A write waits `lockTimeoutMs` (default 5 s) at most for the audit tree head, then fails.
   */
  constructor(
    private readonly url: string,
    options: { readonly?: boolean; poolSize?: number; lockTimeoutMs?: number } = {},
  ) {
    super();
    this.readOnly = options.readonly === true;
    this.pool = createPool(url, {
      readonly: this.readOnly,
      size: options.poolSize ?? 10,
      lockTimeoutMs: options.lockTimeoutMs ?? 5000,
    });
    this.readers = new Readers(this.pool);
    const db = () => this.readers.current;
    // Told only once a batch has committed, when `artifacts` exists.
    this.eventLog = new PgEvents(db, url);
    this.writer = new PgWriter(
      this.pool,
      (usage) => artifacts.committed(usage),
      () => this.eventLog.committed(),
    );
    const artifacts = new PgArtifacts(this.pool, db, this.writer);
    this.composePorts({
      keys: new PgKeys(this.pool, db, this.writer),
      policies: new PgPolicies(this.pool, db, this.writer),
      artifacts,
      governance: new PgGovernance(this.pool, db, this.writer),
      audit: new PgAuditLog(db, this.writer),
      events: this.eventLog,
      retention: new PgRetention(this.pool, db, this.writer),
      subjects: new PgSubjects(db, this.writer),
      modes: new PgModes(db, this.writer),
      webhooks: new PgWebhooks(this.pool, db, this.writer),
      exceptions: new PgExceptions(db, this.writer),
      integrity: new PgIntegrity(db, this.writer),
      runs: new PgRuns(this.pool, db, this.writer),
      s3: new PgS3(this.pool, db, this.writer),
    });
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
    this.eventLog.close();
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
}
