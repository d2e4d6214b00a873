/**
 * The PostgreSQL tables of the audit log (SPEC §6), shared by every node. The tree's size and
 * right edge live in one row (`audit_head`); a write transaction locks it, appends from its size
 * and writes it back (`TreeAppend`), so appends from any number of processes form one tree.
 * Nothing about the tree is kept in memory between transactions. `PgAuditLog` is the AuditStore
 * port over them.
 */
import type pg from 'pg';
import { CompactRange, type SubtreeId } from '../../audit/compact.js';
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
import type { Queryable } from './connection.js';
import { EventColumns, eventNotify, eventWriteCte } from './events.js';
import type { EventDraft } from '../../domain/events.js';
import type { PgWriter } from './writer.js';
import {
  INDEXED_ENTRY_COLUMNS,
  toCheckpoint,
  toEntry,
  toIndexedEntry,
  type CheckpointRow,
  type EntryRow,
  type IndexedEntryRow,
} from '../rows.js';

const PAGE = 1000;

/** The columns of audit_entries, one array per column (inserted with unnest in one statement). */
class EntryColumns {
  readonly idx: number[] = [];
  readonly time: string[] = [];
  readonly allow: boolean[] = [];
  readonly operation: string[] = [];
  readonly principalId: string[] = [];
  readonly principalProduct: (string | null)[] = [];
  readonly targetProduct: (string | null)[] = [];
  readonly targetClass: (string | null)[] = [];
  readonly targetName: (string | null)[] = [];
  readonly threats: string[] = [];
  readonly canonical: Buffer[] = [];
  readonly leafHash: Buffer[] = [];

  get length(): number {
    return this.idx.length;
  }

  truncate(length: number): void {
    for (const column of Object.values(this) as unknown[][]) column.length = length;
  }

  params(): unknown[] {
    return [
      this.idx,
      this.time,
      this.allow,
      this.operation,
      this.principalId,
      this.principalProduct,
      this.targetProduct,
      this.targetClass,
      this.targetName,
      this.threats,
      this.canonical,
      this.leafHash,
    ];
  }
}

/**
 * Common table expressions writing what TreeAppend.writeParams holds, numbered from `$offset + 1`:
 * the entries, the completed subtrees, and the head (size and right edge).
 */
export function treeWriteCtes(offset: number): string {
  const p = (n: number) => `$${offset + n}`;
  return (
    'entries_in AS (INSERT INTO audit_entries (idx, time, allow, operation, principal_id, ' +
    'principal_product, target_product, target_class, target_name, threats, canonical, ' +
    `leaf_hash) SELECT * FROM unnest(${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::boolean[], ` +
    `${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::text[], ${p(8)}::text[], ` +
    `${p(9)}::text[], ${p(10)}::text[], ${p(11)}::bytea[], ${p(12)}::bytea[])), ` +
    'nodes_in AS (INSERT INTO audit_nodes (level, idx, hash) ' +
    `SELECT * FROM unnest(${p(13)}::int[], ${p(14)}::bigint[], ${p(15)}::bytea[])), ` +
    `${eventWriteCte((n) => p(17 + n))}, ` +
    `head_out AS (UPDATE audit_head SET size = ${p(16)}, edge = ${p(17)}, events = ${p(25)} ` +
    'WHERE id = 1)'
  );
}

/** The end of the statement of `treeWriteCtes(offset)`: wakes the nodes if it wrote events. */
export function treeWriteTail(offset: number): string {
  return eventNotify((n) => `$${offset + 17 + n}`);
}

/** Where a batch's appends stood, to undo those of a write that failed. */
export interface TreeMark {
  readonly tree: CompactRange;
  readonly entries: number;
  readonly nodes: number;
  readonly events: number;
}

/**
 * The appends of one write transaction: the head row locked FOR UPDATE on `lock`, entries,
 * completed subtrees and events (their cursors numbered from the head's) collected in memory,
 * written with the new head by `flush` before COMMIT.
 */
export class TreeAppend {
  private readonly entries = new EntryColumns();
  private readonly nodes: { level: number[]; idx: number[]; hash: Buffer[] } = {
    level: [],
    idx: [],
    hash: [],
  };
  private readonly startSize: number;
  private readonly events: EventColumns;

  private constructor(
    private tree: CompactRange,
    lastEvent: number,
  ) {
    this.startSize = tree.size;
    this.events = new EventColumns(lastEvent);
  }

  /**
   * Begins a transaction on the client and locks and reads the tree head in it, in one round trip
   * (a simple query of two statements: it has no parameters).
   */
  static async begin(client: pg.PoolClient): Promise<TreeAppend> {
    const results = (await client.query(
      'BEGIN; SELECT size, edge, events FROM audit_head WHERE id = 1 FOR UPDATE',
    )) as unknown as pg.QueryResult<{ size: number; edge: Buffer[]; events: number }>[];
    const head = results[1]?.rows[0];
    if (!head) throw new Error('the audit tree head is missing (audit_head)');
    return new TreeAppend(CompactRange.fromHashes(head.size, head.edge), head.events);
  }

  mark(): TreeMark {
    return {
      tree: this.tree.clone(),
      entries: this.entries.length,
      nodes: this.nodes.idx.length,
      events: this.events.length,
    };
  }

  restore(mark: TreeMark): void {
    this.tree = mark.tree;
    this.entries.truncate(mark.entries);
    for (const column of Object.values(this.nodes) as unknown[][]) column.length = mark.nodes;
    this.events.truncate(mark.events);
  }

  /** The index the next append gets. */
  get nextIndex(): number {
    return this.tree.size;
  }

  /** Appends a change's events in memory, pointing at its entry (if it has one). */
  appendEvents(drafts: readonly EventDraft[], time: string, auditIndex: number | null): void {
    for (const draft of drafts) this.events.append(draft, time, auditIndex);
  }

  /** Whether the transaction wrote events (its commit wakes the streams). */
  get wroteEvents(): boolean {
    return this.events.length > 0;
  }

  /** Appends one entry in memory; throws before changing anything, or not at all. */
  append(draft: AuditDraft, time: string): AuditReceipt {
    const index = this.tree.size;
    const entry = entryOf(draft, index, time);
    const canonical = canonicalBytes(entry);
    const leaf = leafHash(canonical);
    const c = entryColumns(entry);
    const e = this.entries;
    e.idx.push(index);
    e.time.push(c.time);
    e.allow.push(c.allow);
    e.operation.push(c.operation);
    e.principalId.push(c.principalId);
    e.principalProduct.push(c.principalProduct);
    e.targetProduct.push(c.targetProduct);
    e.targetClass.push(c.targetClass);
    e.targetName.push(c.targetName);
    e.threats.push(c.threats);
    e.canonical.push(canonical);
    e.leafHash.push(leaf);
    // Cannot throw with a 32-byte leaf hash below 2^53 leaves.
    this.tree.append(leaf, (id, hash) => {
      if (id.level === 0) return;
      this.nodes.level.push(id.level);
      this.nodes.idx.push(id.index);
      this.nodes.hash.push(hash);
    });
    return { leafIndex: index, leafHash: leaf.toString('hex') };
  }

  /**
   * The parameters of `treeWriteCtes` (from `$offset + 1`): entries, completed subtrees, and the
   * new head, to write with other rows in one statement.
   */
  writeParams(): unknown[] {
    return [
      ...this.entries.params(),
      this.nodes.level,
      this.nodes.idx,
      this.nodes.hash,
      this.tree.size,
      this.tree.hashes(),
      ...this.events.params(),
    ];
  }

  /** Writes the entries, the completed subtrees and the new head, in the locking transaction. */
  async flush(client: pg.PoolClient): Promise<void> {
    if (this.tree.size === this.startSize && this.events.length === 0) return;
    await client.query({
      name: 'write-audit-appends',
      text: `WITH ${treeWriteCtes(0)} ${treeWriteTail(0)}`,
      values: this.writeParams(),
    });
  }
}

/**
 * The AuditStore port of the PostgreSQL store: appends through the writer's group commit (with
 * version commits), reads through whichever client the caller's snapshot designates.
 */
export class PgAuditLog implements AuditStore {
  constructor(
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]> {
    return this.writer.appendAudit(drafts);
  }

  async auditSize(): Promise<number> {
    const { rows } = await this.db().query<{ size: number }>(
      'SELECT size FROM audit_head WHERE id = 1',
    );
    return rows[0]?.size ?? 0;
  }

  /** Leaves from audit_entries, higher subtrees from audit_nodes: one round trip for all ids. */
  async auditSubtrees(ids: readonly SubtreeId[]): Promise<Buffer[]> {
    if (ids.length === 0) return [];
    // Named, so each connection plans it once: planning costs more than running it.
    const { rows } = await this.db().query<{ hash: Buffer | null }>({
      name: 'audit-subtrees',
      text:
        'SELECT coalesce(e.leaf_hash, n.hash) AS hash ' +
        'FROM unnest($1::int[], $2::bigint[]) WITH ORDINALITY AS q(level, idx, ord) ' +
        'LEFT JOIN audit_entries e ON q.level = 0 AND e.idx = q.idx ' +
        'LEFT JOIN audit_nodes n ON q.level > 0 AND n.level = q.level AND n.idx = q.idx ' +
        'ORDER BY q.ord',
      values: [ids.map((id) => id.level), ids.map((id) => id.index)],
    });
    return ids.map((id, i) => {
      const hash = rows[i]?.hash;
      if (!hash) throw new Error(`audit subtree ${id.level}/${id.index} is not stored`);
      return hash;
    });
  }

  async auditEntry(index: number): Promise<StoredAuditEntry | null> {
    const { rows } = await this.db().query<EntryRow>(
      'SELECT idx, canonical, leaf_hash FROM audit_entries WHERE idx = $1',
      [index],
    );
    return rows[0] ? toEntry(rows[0]) : null;
  }

  async auditEntries(query: AuditQuery): Promise<StoredAuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.artifact) {
      where.push(
        `target_product = ${param(query.artifact.product)} AND ` +
          `target_class = ${param(query.artifact.class)} AND target_name = ${param(query.artifact.name)}`,
      );
    }
    if (query.principal !== undefined) where.push(`principal_id = ${param(query.principal)}`);
    if (query.allow !== undefined) where.push(`allow = ${param(query.allow)}`);
    if (query.threat !== undefined) {
      where.push(`strpos(threats, ' ' || ${param(query.threat)} || ' ') > 0`);
    }
    if (query.since !== undefined) where.push(`time >= ${param(query.since)}`);
    if (query.afterIndex !== undefined) where.push(`idx > ${param(query.afterIndex)}`);
    if (query.throughIndex !== undefined) where.push(`idx <= ${param(query.throughIndex)}`);
    if (query.visibleTo !== undefined) {
      const product = param(query.visibleTo);
      where.push(`(principal_product = ${product} OR target_product = ${product})`);
    }
    const sql =
      'SELECT idx, canonical, leaf_hash FROM audit_entries' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY idx LIMIT ${param(query.limit)}`;
    const { rows } = await this.db().query<EntryRow>(sql, params);
    return rows.map(toEntry);
  }

  auditRange(from: number, to: number): AsyncIterable<StoredAuditEntry> {
    return this.pages<EntryRow, StoredAuditEntry>('idx, canonical, leaf_hash', from, to, toEntry);
  }

  auditRangeIndexed(from: number, to: number): AsyncIterable<IndexedAuditEntry> {
    return this.pages<IndexedEntryRow, IndexedAuditEntry>(
      INDEXED_ENTRY_COLUMNS,
      from,
      to,
      toIndexedEntry,
    );
  }

  /** Entries [from, to) with `columns`, a page at a time, converted. */
  private async *pages<R extends { idx: number }, T>(
    columns: string,
    from: number,
    to: number,
    convert: (row: R) => T,
  ): AsyncIterable<T> {
    for (let next = from; next < to;) {
      const { rows } = await this.db().query<R>(
        `SELECT ${columns} FROM audit_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3`,
        [next, to, PAGE],
      );
      if (rows.length === 0) return;
      for (const row of rows) yield convert(row);
      next = (rows[rows.length - 1]?.idx ?? to) + 1;
    }
  }

  async insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.db().query(
      'INSERT INTO audit_checkpoints (size, root_hash, note, created_at) VALUES ($1, $2, $3, $4) ' +
        'ON CONFLICT (size) DO NOTHING',
      [checkpoint.size, checkpoint.rootHash, checkpoint.note, checkpoint.createdAt],
    );
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    const { rows } = await this.db().query<CheckpointRow>(
      'SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
    );
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  async *checkpoints(): AsyncIterable<StoredCheckpoint> {
    for (let after = -1; ;) {
      const { rows } = await this.db().query<CheckpointRow>(
        'SELECT * FROM audit_checkpoints WHERE size > $1 ORDER BY size LIMIT $2',
        [after, PAGE],
      );
      if (rows.length === 0) return;
      for (const row of rows) yield toCheckpoint(row);
      after = rows[rows.length - 1]?.size ?? Number.MAX_SAFE_INTEGER;
    }
  }
}
