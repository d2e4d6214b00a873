/** The embedded metadata store: SQLite through better-sqlite3, in WAL mode. */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ComposedMetadataStore } from '../compose.js';
import type { DurabilityStats, MetadataStore } from '../ports.js';
import { SchemaTooNewError } from '../errors.js';
import { preparePrivateDatabase } from '../private-files.js';
import { SqliteRuns } from './runs.js';
import { SqliteS3 } from './s3.js';
import { SqliteExceptions } from './exceptions.js';
import { SqliteArtifacts } from './artifacts.js';
import { AuditTables, SqliteAuditLog } from './audit.js';
import { SqliteChanges } from './changes.js';
import { SqliteRetention } from './retention.js';
import { SqliteSubjects } from './subjects.js';
import { SqliteEvents } from './events.js';
import { SqliteGovernance } from './governance.js';
import { DEFAULT_HEAD_CACHE, HeadCache } from './head-cache.js';
import { SqliteIntegrity } from './integrity.js';
import { SqliteKeys } from './keys.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteModes } from './modes.js';
import { SqlitePolicies } from './policies.js';
import { SqliteWebhooks } from './webhooks.js';
import { WalSync } from './wal-sync.js';
import { WalCheckpointer } from './checkpointer.js';
import { DataVersion } from './data-version.js';
import { BUSY_TIMEOUT_MS } from './write-lock.js';
import { SqliteWriter } from './writer.js';

export { SchemaTooNewError };

/** How often a shared store looks for other processes' commits to follow. */
const FOLLOW_MS = 100;

export interface SqliteStoreOptions {
  /** Open an existing database without ever writing to it (see the constructor). */
  readonly readonly?: boolean;
  /**
   * What makes commits durable before they are acknowledged; by default an fdatasync of the
   * database's WAL file (wal-sync.ts). Tests pass one whose syncs they delay or fail.
   */
  readonly wal?: (walFile: string) => WalSync;
  /**
   * False writes no event rows: the "without" of the bench's outbox comparison
   * (bench/no-outbox-server.ts). No configuration sets it; a Bucket without its outbox breaks
   * SPEC §10.
   */
  readonly outbox?: boolean;
  /**
   * Other processes (the workers of one embedded Bucket, issue 21) write the same database: what
   * this store keeps in memory (the tree's edge, the usage counters, the head cache) is read again
   * whenever one of them committed, and the group commit waits for the write lock off the event
   * loop.
   */
  readonly shared?: boolean;
  /**
   * False keeps SQLite's own checkpoints on the writing connection (checkpointer.ts); by default
   * a thread takes them over once the store has made CHECKPOINT_THREAD_AFTER_SYNCS syncs.
   */
  readonly checkpointThread?: boolean;
}

/** Syncs (group commits) after which a store's checkpoints move to their thread. */
export const CHECKPOINT_THREAD_AFTER_SYNCS = 100;

/**
 * The embedded store: one SQLite connection shared by one object per port (keys.ts, policies.ts,
 * artifacts.ts, governance.ts, audit.ts), and the writer (writer.ts) whose group commit they use.
 */
export class SqliteMetadataStore extends ComposedMetadataStore implements MetadataStore {
  readonly kind = 'sqlite';
  /**
   * Alone, the process holding the data directory's lock is the database's only writer; as one
   * of its workers (`shared`), others write it too.
   */
  readonly sharedByNodes: boolean;
  private readonly dataVersion: DataVersion;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<SqliteMetadataStore['prepare']>;
  private readonly writer: SqliteWriter;
  private readonly changes: SqliteChanges;
  private readonly wal: WalSync;
  private readonly auditTables: AuditTables;
  private readonly readOnly: boolean;
  /** Shared: follows the other processes' commits (their events, their entries). */
  private follower: NodeJS.Timeout | null = null;
  private checkpointer: WalCheckpointer | null = null;
  private closing = false;

  /**
   * `readonly: true` opens an existing database without ever writing to it (for `bucket audit
   * verify` beside a running server): nothing is created or migrated, and a schema version other
   * than this code's is refused.
   */
  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    super();
    this.readOnly = options.readonly === true;
    this.sharedByNodes = options.shared === true && !this.readOnly;
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
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    try {
      if (this.readOnly) this.checkSchemaVersion();
      else this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.statements = this.prepare();
    this.dataVersion = new DataVersion(this.db);
    this.auditTables = new AuditTables(this.db);
    this.wal =
      file === ':memory:' || this.readOnly
        ? WalSync.none()
        : (options.wal ?? WalSync.forFile)(`${file}-wal`);
    // Checkpoints leave the event loop once the store is busy (checkpointer.ts): a store that
    // commits now and then keeps SQLite's own, and no thread.
    if (file !== ':memory:' && !this.readOnly && options.checkpointThread !== false) {
      this.wal.afterSyncs(CHECKPOINT_THREAD_AFTER_SYNCS, () => {
        if (this.db.open && !this.closing && this.checkpointer === null) {
          this.checkpointer = WalCheckpointer.start(this.db, file);
        }
      });
    }
    // Shared, every move of a head is counted (heads_stamp) for the other processes' caches.
    const bumpHeads = this.sharedByNodes
      ? this.db.prepare(
          "INSERT INTO settings (key, value) VALUES ('heads_stamp', '1') ON CONFLICT (key) " +
            'DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)',
        )
      : null;
    const heads = new HeadCache(DEFAULT_HEAD_CACHE, () => bumpHeads?.run());
    // Dropped inside the commit's transaction: whether it commits or rolls back, the next read of
    // that head comes from the database.
    this.writer = new SqliteWriter(
      this.db,
      this.wal,
      (key) => heads.moved(key),
      () => events.durable(),
      options.outbox ?? true,
      this.sharedByNodes ? this.dataVersion.watch() : null,
    );
    const events = new SqliteEvents(this.writer.events, () => this.writer.durableEventId);
    this.changes = new SqliteChanges(this.db, this.writer);
    const keys = new SqliteKeys(this.db, this.changes);
    this.composePorts({
      keys,
      policies: new SqlitePolicies(this.db, this.changes),
      artifacts: new SqliteArtifacts(this.db, this.writer, heads, {
        readOnly: this.readOnly,
        othersCommitted: this.sharedByNodes ? this.dataVersion.watch() : null,
        headsStamp: () => this.statements.getSetting.get('heads_stamp')?.value ?? '0',
      }),
      governance: new SqliteGovernance(this.db, this.changes, (id) => keys.byId(id)),
      audit: new SqliteAuditLog(this.auditTables, this.writer, this.changes, this.readOnly),
      events,
      retention: new SqliteRetention(this.db, this.changes, heads),
      subjects: new SqliteSubjects(this.db, this.changes, this.writer, heads),
      modes: new SqliteModes(this.db, this.changes),
      webhooks: new SqliteWebhooks(this.db, this.changes),
      exceptions: new SqliteExceptions(this.db, this.changes),
      integrity: new SqliteIntegrity(this.db, this.changes),
      runs: new SqliteRuns(this.db, this.changes),
      s3: new SqliteS3(this.db, this.changes, this.writer),
    });
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
      this.auditTables.reload();
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
    };
  }

  async init(): Promise<void> {
    // What the WAL holds from an earlier process may not be on disk yet (it survived that
    // process, not necessarily the machine): the first checkpoint must not sign it unsynced.
    if (!this.readOnly) await this.writer.untilDurable();
    if (this.sharedByNodes) this.followOthers();
  }

  /**
   * Shared: every FOLLOW_MS, when another process committed, what memory holds of the tables is
   * dropped and a sync makes their commits this process's durable state too — so that event
   * streams served here see the events written there (SPEC §10), and checkpoints sign their
   * entries, without waiting for a commit of this process.
   */
  private followOthers(): void {
    const moved = this.dataVersion.watch();
    this.follower = setInterval(() => {
      if (!moved() || !this.db.open) return;
      this.writer.afterRollback();
      this.writer.untilDurable().catch(() => {
        // A failed sync is final and reported by ping() (/health).
      });
    }, FOLLOW_MS);
    this.follower.unref();
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
    this.closing = true;
    if (this.follower) clearInterval(this.follower);
    await this.checkpointer?.close();
    await this.wal.close();
    if (this.db.open) this.db.close();
  }

  async getSetting(key: string): Promise<string | null> {
    return this.statements.getSetting.get(key)?.value ?? null;
  }

  async setSettingOnce(key: string, value: string): Promise<string> {
    await this.changes.writeDurably(() => this.statements.insertSetting.run(key, value));
    return this.statements.getSetting.get(key)?.value ?? value;
  }

  watchOtherWriters(): () => boolean {
    return this.sharedByNodes ? this.dataVersion.watch() : () => false;
  }

  async changeStamp(): Promise<string> {
    return this.statements.getSetting.get('change_stamp')?.value ?? '0';
  }
}
