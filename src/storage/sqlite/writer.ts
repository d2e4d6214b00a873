/**
 * The write side of the embedded store: version commits (with their audit entries) and audit
 * appends, group-committed on the store's connection (group-commit.ts).
 */
import type Database from 'better-sqlite3';
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';
import type { ArtifactKey } from '../../domain/artifact.js';
import { checkCommit, isRefusal } from '../../domain/commit.js';
import { artifactEvent, limitWarnings, type EventDraft } from '../../domain/events.js';
import { UsageCounters, type UsageFacts } from '../../domain/usage.js';
import { AtomicRefusal } from '../errors.js';
import type { CommitResult, ProductUsage, VersionCommit } from '../ports.js';
import { toHold, VERSION_INSERT_COLUMNS, versionValues, type HoldRow } from '../rows.js';
import { AuditTables } from './audit.js';
import { EventTables } from './events.js';
import { S3UploadTables, type UsageLedger } from './s3-uploads.js';
import type { GroupCommit } from '../group-commit.js';
import { sqliteGroupCommit } from './group-commit.js';
import type { WalSync } from './wal-sync.js';

/**
 * What one group-commit job does: commit a version (with its audit entry), append entries, or
 * change rows that move the usage counters (an S3 part held or released, s3-uploads.ts).
 */
export type WriteJob =
  | { readonly kind: 'version'; readonly commit: VersionCommit }
  | { readonly kind: 'versions'; readonly commits: readonly VersionCommit[] }
  | { readonly kind: 'audit'; readonly drafts: readonly AuditDraft[] }
  | { readonly kind: 'usage'; readonly run: (ledger: UsageLedger) => unknown };
/** A usage job's result, and the usage of each product it moved. */
interface UsageOutcome {
  readonly result: unknown;
  readonly moved: ReadonlyMap<string, UsageFacts>;
}
export type WriteOutcome = CommitResult | CommitResult[] | AuditReceipt[] | UsageOutcome;

/** The usage counters as committed in product_usage (one row per product, never a scan). */
export function loadUsage(db: Database.Database): UsageCounters {
  return new UsageCounters(
    db
      .prepare<[], ProductUsage & { product: string }>(
        'SELECT product, bytes, artifacts FROM product_usage',
      )
      .all(),
  );
}

export class SqliteWriter {
  private readonly statements: ReturnType<SqliteWriter['prepare']>;
  private readonly audit: AuditTables;
  readonly events: EventTables;
  private readonly uploads: S3UploadTables;
  /** Told the usage of a product once a usage job that moved it has committed. */
  private readonly usageFollowers: ((product: string, usage: UsageFacts) => void)[] = [];
  private readonly commits: GroupCommit<WriteJob, WriteOutcome>;
  /**
   * The usage counters, held in memory for the commit's re-check of the limits: the writer is the
   * only one that moves them. Dropped (reloaded on the next commit) whenever a savepoint or batch
   * rolls back, like the audit tree's edge.
   */
  private usage: UsageCounters | null = null;
  /** The audit log's size as of the last completed sync: what a checkpoint may sign. */
  private durableSize: number;
  /** The newest event cursor as of the last completed sync: what readers may see. */
  private durableEvent: number;

  constructor(
    private readonly db: Database.Database,
    private readonly wal: WalSync,
    /**
     * Called inside the transaction of each version commit, before it can commit or roll back:
     * whatever the store keeps of that artifact's head must then come from the database again.
     */
    private readonly onHeadMoving: (key: ArtifactKey) => void = () => {},
    /** Called once events committed since the last call are on disk. */
    private readonly onEventsDurable: () => void = () => {},
    /** False only in the bench's outbox comparison (SqliteStoreOptions.outbox). */
    outbox = true,
    /**
     * Other processes write the same database (issue 21): answers true once after any of them
     * committed, and the state kept in memory (the tree's edge, the usage counters, the event
     * cursor) is then read again inside the transaction, under the write lock.
     */
    private readonly othersCommitted: (() => boolean) | null = null,
  ) {
    this.statements = this.prepare();
    this.audit = new AuditTables(db);
    this.events = new EventTables(db, outbox);
    this.uploads = new S3UploadTables(db);
    this.durableSize = this.audit.size;
    this.durableEvent = this.events.lastId;
    this.commits = sqliteGroupCommit<WriteJob, WriteOutcome>(
      db,
      (job) => {
        this.fresh();
        if (job.kind === 'version') return this.applyCommit(job.commit);
        if (job.kind === 'versions') return this.applyAtomically(job.commits);
        if (job.kind === 'usage') return this.applyUsage(job.run);
        return job.drafts.map((draft) => this.audit.append(draft, new Date().toISOString()));
      },
      () => this.afterRollback(),
      { untilDurable: () => this.untilDurable(), syncInProgress: () => this.wal.syncInProgress },
    );
  }

  /** Inside a write transaction: drops what memory holds if another process committed. */
  private fresh(): void {
    if (this.othersCommitted?.()) this.afterRollback();
  }

  /**
   * Resolves once everything committed so far is on disk (wal-sync.ts); every write of the store
   * awaits it before it is acknowledged.
   */
  async untilDurable(): Promise<void> {
    const size = this.audit.size;
    const lastEvent = this.events.lastId;
    await this.wal.barrier();
    if (size > this.durableSize) this.durableSize = size;
    if (lastEvent > this.durableEvent) {
      this.durableEvent = lastEvent;
      this.onEventsDurable();
    }
  }

  /** The newest event cursor on disk. */
  get durableEventId(): number {
    return this.durableEvent;
  }

  /**
   * Appends an entry inside the caller's open transaction (a governance change's): after a
   * rollback of that transaction the caller must call afterRollback().
   */
  appendWithin(draft: AuditDraft): AuditReceipt {
    if (!this.db.inTransaction) throw new Error('appendWithin needs an open transaction');
    this.fresh();
    return this.audit.append(draft, new Date().toISOString());
  }

  /** Appends events inside the caller's open transaction (see appendWithin). */
  eventsWithin(drafts: readonly EventDraft[], auditIndex: number | null): void {
    if (!this.db.inTransaction) throw new Error('eventsWithin needs an open transaction');
    this.fresh();
    const time = new Date().toISOString();
    for (const draft of drafts) this.events.append(draft, time, auditIndex);
  }

  /** What this writer keeps in memory beside the database is reloaded from what committed. */
  afterRollback(): void {
    this.usage = null;
    this.audit.reload();
    this.events.reload();
  }

  /**
   * The audit log's size as committed and on disk: a checkpoint signed for a larger size could
   * be contradicted by the log a machine crash leaves behind (read between transactions).
   */
  get auditSize(): number {
    return this.durableSize;
  }

  private prepare() {
    const db = this.db;
    return {
      activeHolds: db.prepare<[], HoldRow>('SELECT * FROM legal_holds WHERE lifted_at IS NULL'),
      headVersion: db.prepare<[string, string, string], { head_version: number }>(
        'SELECT head_version FROM artifacts WHERE product = ? AND class = ? AND name = ?',
      ),
      insertVersion: db.prepare(
        `INSERT INTO versions (${VERSION_INSERT_COLUMNS}) VALUES ` +
          '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertHead: db.prepare(
        'INSERT INTO artifacts (product, class, name, head_version, tombstone) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (product, class, name) DO UPDATE SET head_version = excluded.head_version, ' +
          'tombstone = excluded.tombstone',
      ),
      liveKey: db.prepare<[string], { found: number }>(
        'SELECT 1 AS found FROM subject_keys WHERE id = ? AND destroyed_at IS NULL',
      ),
      insertKey: db.prepare(
        'INSERT INTO subject_keys (id, subject, wrapped, created_at) VALUES (?, ?, ?, ?)',
      ),
      setEtag: db.prepare(
        'INSERT OR REPLACE INTO s3_etags (product, class, name, version, etag) ' +
          'VALUES (?, ?, ?, ?, ?)',
      ),
      addUsage: db.prepare(
        'INSERT INTO product_usage (product, bytes, artifacts) VALUES (?, ?, ?) ' +
          'ON CONFLICT (product) DO UPDATE SET bytes = bytes + excluded.bytes, ' +
          'artifacts = artifacts + excluded.artifacts',
      ),
    };
  }

  submit(job: WriteJob): Promise<WriteOutcome> {
    return this.commits.submit(job);
  }

  /**
   * Runs `run` in a group-commit transaction with the usage counters as they stand there, moved
   * by it through the ledger (an S3 part held or released, decision record 0052); resolves with
   * its result once committed and on disk.
   */
  async withUsage<T>(run: (ledger: UsageLedger) => T): Promise<T> {
    const outcome = (await this.submit({ kind: 'usage', run })) as UsageOutcome;
    for (const [product, usage] of outcome.moved) {
      for (const follow of this.usageFollowers) follow(product, usage);
    }
    return outcome.result as T;
  }

  /** `follow` is told the usage a usage job left (a commit's is in its result). */
  onUsageMoved(follow: (product: string, usage: UsageFacts) => void): void {
    this.usageFollowers.push(follow);
  }

  private applyUsage(run: (ledger: UsageLedger) => unknown): UsageOutcome {
    const usage = (this.usage ??= loadUsage(this.db));
    const moved = new Map<string, UsageFacts>();
    const ledger: UsageLedger = {
      facts: (product) => usage.facts(product),
      move: (product, bytes) => {
        if (bytes === 0) return;
        const { product: own, total } = usage.facts(product);
        const after = {
          product: { bytes: own.bytes + bytes, artifacts: own.artifacts },
          total: { bytes: total.bytes + bytes, artifacts: total.artifacts },
        };
        // Moved before the statement: if it throws, the savepoint's rollback drops the counters.
        usage.commit(product, after);
        this.statements.addUsage.run(product, bytes, 0);
        moved.set(product, after);
      },
    };
    return { result: run(ledger), moved };
  }

  /**
   * An atomic batch's commits, in order; the first refusal throws, which rolls back the job's
   * transaction or savepoint — every version of it — and reloads what is held in memory.
   */
  private applyAtomically(commits: readonly VersionCommit[]): CommitResult[] {
    return commits.map((commit, index) => {
      const result = this.applyCommit(commit);
      if (!result.ok) throw new AtomicRefusal(index, result);
      return result;
    });
  }

  /** One version commit; runs inside a group-commit transaction (see group-commit.ts). */
  private applyCommit(commit: VersionCommit): CommitResult {
    const v = commit.version;
    this.onHeadMoving(v);
    const current = this.statements.headVersion.get(v.product, v.class, v.name)?.head_version ?? 0;
    this.usage ??= loadUsage(this.db);
    const before = this.usage.facts(v.product);
    // An S3 completion: the bytes its upload's parts held become the version's.
    const completes = commit.s3?.completesUpload;
    const released = completes ? this.uploads.heldBytes(completes) : 0;
    const after = checkCommit(commit, current, before, released);
    if (isRefusal(after)) return after;
    if (commit.unlessHeld) {
      const holds = commit.unlessHeld(this.statements.activeHolds.all().map(toHold));
      if (holds.length > 0) return { ok: false, reason: 'legal_hold', holds };
    }
    const key = commit.newSubjectKey;
    if (v.sealed && !key && this.statements.liveKey.get(v.sealed.keyId) === undefined) {
      return { ok: false, reason: 'subject_erased', keyId: v.sealed.keyId };
    }
    if (key) this.statements.insertKey.run(key.id, key.subject, key.wrapped, key.createdAt);
    // Moved before the statements: if one throws, the savepoint's rollback drops the counters.
    this.usage.commit(v.product, after);
    // The entry appended last gets the single writer's next index: the version's and its events'.
    const auditIndex = this.audit.size;
    this.statements.insertVersion.run(
      ...versionValues(v, commit.inline, commit.factsSalt, auditIndex),
    );
    this.statements.upsertHead.run(v.product, v.class, v.name, v.version, v.tombstone ? 1 : 0);
    this.statements.addUsage.run(
      v.product,
      v.size - released,
      after.product.artifacts - before.product.artifacts,
    );
    if (completes) this.uploads.removeCompleted(completes);
    const etag = commit.s3?.etag;
    if (etag) this.statements.setEtag.run(v.product, v.class, v.name, v.version, etag);
    // The change's events, pointing at the entry appended next.
    const time = new Date().toISOString();
    this.events.append(artifactEvent(v, commit.audit.decision.operation), time, auditIndex);
    for (const warning of limitWarnings(v.product, before, after, commit.limits)) {
      this.events.append(warning, time, auditIndex);
    }
    // Last: nothing after it can throw, so the tree's edge moves only with a committed version.
    const receipt = this.audit.append(commit.audit, time);
    return { ok: true, usage: after, receipt };
  }
}
