/**
 * The SQLite tables of the audit log (migration 3), and the store's AuditStore port over them. Appends run inside the store's write
 * transactions; the tree's right edge (a compact range) is kept in memory and reloaded from the
 * stored subtrees whenever a transaction fails, so it never runs ahead of what is committed.
 */
import type Database from 'better-sqlite3';
import { CompactRange, decompose, type SubtreeId } from '../../audit/compact.js';
import { canonicalBytes, entryOf, type AuditDraft, type AuditReceipt } from '../../audit/entry.js';
import { entryColumns } from '../../audit/entry-columns.js';
import { leafHash } from '../../audit/rfc6962.js';
import type {
  AuditQuery,
  AuditStore,
  IndexedAuditEntry,
  StoredAuditEntry,
  StoredCheckpoint,
} from '../ports.js';
import {
  INDEXED_ENTRY_COLUMNS,
  toCheckpoint,
  toEntry,
  toIndexedEntry,
  type CheckpointRow,
  type EntryRow,
  type IndexedEntryRow,
} from '../rows.js';
import type { SqliteChanges } from './changes.js';
import type { SqliteWriter } from './writer.js';

const PAGE = 1000;

export class AuditTables {
  /** Loaded on first use: a store's reading copy of these tables never needs it. */
  private edge: CompactRange | null = null;
  private readonly statements: ReturnType<AuditTables['prepare']>;
  private readonly queries = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.statements = this.prepare();
  }

  private get tree(): CompactRange {
    this.edge ??= this.loadTree();
    return this.edge;
  }

  private prepare() {
    const db = this.db;
    return {
      size: db.prepare<[], { size: number | null }>(
        'SELECT max(idx) + 1 AS size FROM audit_entries',
      ),
      insertEntry: db.prepare(
        'INSERT INTO audit_entries (idx, time, allow, operation, principal_id, principal_product, ' +
          'target_product, target_class, target_name, threats, canonical, leaf_hash) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertNode: db.prepare('INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)'),
      node: db.prepare<[number, number], { hash: Buffer }>(
        'SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?',
      ),
      leaf: db.prepare<[number], { leaf_hash: Buffer }>(
        'SELECT leaf_hash FROM audit_entries WHERE idx = ?',
      ),
      entry: db.prepare<[number], EntryRow>(
        'SELECT idx, canonical, leaf_hash FROM audit_entries WHERE idx = ?',
      ),
      range: db.prepare<[number, number, number], EntryRow>(
        'SELECT idx, canonical, leaf_hash FROM audit_entries WHERE idx >= ? AND idx < ? ' +
          'ORDER BY idx LIMIT ?',
      ),
      rangeIndexed: db.prepare<[number, number, number], IndexedEntryRow>(
        `SELECT ${INDEXED_ENTRY_COLUMNS} FROM audit_entries WHERE idx >= ? AND idx < ? ` +
          'ORDER BY idx LIMIT ?',
      ),
      insertCheckpoint: db.prepare(
        'INSERT OR IGNORE INTO audit_checkpoints (size, root_hash, note, created_at) VALUES (?, ?, ?, ?)',
      ),
      latestCheckpoint: db.prepare<[], CheckpointRow>(
        'SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
      ),
      checkpointsAfter: db.prepare<[number, number], CheckpointRow>(
        'SELECT * FROM audit_checkpoints WHERE size > ? ORDER BY size LIMIT ?',
      ),
    };
  }

  /** The committed tree's right edge, from the stored subtrees. */
  private loadTree(): CompactRange {
    const size = this.statements.size.get()?.size ?? 0;
    return CompactRange.fromHashes(size, this.subtrees(decompose(0, size)));
  }

  /** Called after a transaction that appended failed: the database, not memory, is the truth. */
  reload(): void {
    this.edge = null;
  }

  get size(): number {
    return this.tree.size;
  }

  /** Appends one entry; must run inside a write transaction. */
  append(draft: AuditDraft, time: string): AuditReceipt {
    const index = this.tree.size;
    const entry = entryOf(draft, index, time);
    const canonical = canonicalBytes(entry);
    const leaf = leafHash(canonical);
    const c = entryColumns(entry);
    this.statements.insertEntry.run(
      index,
      c.time,
      c.allow ? 1 : 0,
      c.operation,
      c.principalId,
      c.principalProduct,
      c.targetProduct,
      c.targetClass,
      c.targetName,
      c.threats,
      canonical,
      leaf,
    );
    // The new edge replaces the old one only once every node it completes is stored: a throw
    // half-way leaves the committed edge in place (the savepoint rolls the rows back).
    const next = this.tree.clone();
    next.append(leaf, (id, hash) => {
      if (id.level > 0) this.statements.insertNode.run(id.level, id.index, hash);
    });
    this.edge = next;
    return { leafIndex: index, leafHash: leaf.toString('hex') };
  }

  subtrees(ids: readonly SubtreeId[]): Buffer[] {
    return ids.map((id) => {
      const hash =
        id.level === 0
          ? this.statements.leaf.get(id.index)?.leaf_hash
          : this.statements.node.get(id.level, id.index)?.hash;
      if (!hash) throw new Error(`audit subtree ${id.level}/${id.index} is not stored`);
      return hash;
    });
  }

  entry(index: number): StoredAuditEntry | null {
    const row = this.statements.entry.get(index);
    return row ? toEntry(row) : null;
  }

  entries(query: AuditQuery): StoredAuditEntry[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit };
    if (query.artifact) {
      where.push('target_product = @product AND target_class = @class AND target_name = @name');
      Object.assign(params, query.artifact);
    }
    if (query.principal !== undefined) {
      where.push('principal_id = @principal');
      params['principal'] = query.principal;
    }
    if (query.allow !== undefined) {
      where.push('allow = @allow');
      params['allow'] = query.allow ? 1 : 0;
    }
    if (query.threat !== undefined) {
      where.push("instr(threats, ' ' || @threat || ' ') > 0");
      params['threat'] = query.threat;
    }
    if (query.since !== undefined) {
      where.push('time >= @since');
      params['since'] = query.since;
    }
    if (query.afterIndex !== undefined) {
      where.push('idx > @after');
      params['after'] = query.afterIndex;
    }
    if (query.throughIndex !== undefined) {
      where.push('idx <= @through');
      params['through'] = query.throughIndex;
    }
    if (query.visibleTo !== undefined) {
      where.push('(principal_product = @visibleTo OR target_product = @visibleTo)');
      params['visibleTo'] = query.visibleTo;
    }
    const sql =
      'SELECT idx, canonical, leaf_hash FROM audit_entries' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY idx LIMIT @limit';
    let statement = this.queries.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.queries.set(sql, statement);
    }
    return (statement.all(params) as EntryRow[]).map(toEntry);
  }

  range(from: number, to: number): AsyncIterable<StoredAuditEntry> {
    return pages(this.statements.range, from, to, toEntry);
  }

  rangeIndexed(from: number, to: number): AsyncIterable<IndexedAuditEntry> {
    return pages(this.statements.rangeIndexed, from, to, toIndexedEntry);
  }

  insertCheckpoint(checkpoint: StoredCheckpoint): void {
    this.statements.insertCheckpoint.run(
      checkpoint.size,
      checkpoint.rootHash,
      checkpoint.note,
      checkpoint.createdAt,
    );
  }

  latestCheckpoint(): StoredCheckpoint | null {
    const row = this.statements.latestCheckpoint.get();
    return row ? toCheckpoint(row) : null;
  }

  async *checkpoints(): AsyncIterable<StoredCheckpoint> {
    for (let after = -1; ;) {
      const rows = this.statements.checkpointsAfter.all(after, PAGE);
      if (rows.length === 0) return;
      for (const row of rows) yield toCheckpoint(row);
      after = rows[rows.length - 1]?.size ?? Number.MAX_SAFE_INTEGER;
    }
  }
}

/** Rows [from, to) of a range statement, a page at a time, converted. */
async function* pages<R extends { idx: number }, T>(
  statement: Database.Statement<[number, number, number], R>,
  from: number,
  to: number,
  convert: (row: R) => T,
): AsyncIterable<T> {
  for (let next = from; next < to;) {
    const rows = statement.all(next, to, PAGE);
    if (rows.length === 0) return;
    for (const row of rows) yield convert(row);
    next = (rows[rows.length - 1]?.idx ?? to) + 1;
  }
}

/**
 * The AuditStore port of the embedded store: appends through the writer's group commit (with
 * version commits), reads from the tables, checkpoints synced before they are acknowledged.
 */
export class SqliteAuditLog implements AuditStore {
  constructor(
    private readonly tables: AuditTables,
    private readonly writer: SqliteWriter,
    private readonly changes: SqliteChanges,
    private readonly readOnly: boolean,
  ) {}

  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]> {
    if (drafts.length === 0) return [];
    return (await this.writer.submit({ kind: 'audit', drafts })) as AuditReceipt[];
  }

  async auditSize(): Promise<number> {
    // Read-only, the size of the snapshot being read; otherwise what this store has committed.
    return this.readOnly ? this.tables.size : this.writer.auditSize;
  }

  async auditSubtrees(ids: readonly SubtreeId[]): Promise<Buffer[]> {
    return this.tables.subtrees(ids);
  }

  async auditEntry(index: number): Promise<StoredAuditEntry | null> {
    return this.tables.entry(index);
  }

  async auditEntries(query: AuditQuery): Promise<StoredAuditEntry[]> {
    return this.tables.entries(query);
  }

  auditRange(from: number, to: number): AsyncIterable<StoredAuditEntry> {
    return this.tables.range(from, to);
  }

  auditRangeIndexed(from: number, to: number): AsyncIterable<IndexedAuditEntry> {
    return this.tables.rangeIndexed(from, to);
  }

  async insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.changes.writeDurably(() => this.tables.insertCheckpoint(checkpoint));
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.tables.latestCheckpoint();
  }

  checkpoints(): AsyncIterable<StoredCheckpoint> {
    return this.tables.checkpoints();
  }
}
