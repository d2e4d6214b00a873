/** The AuditStore port: the log's entries, stored subtrees and checkpoints (SPEC §6). */
import type { SubtreeId } from '../../audit/compact.js';
import type { EntryColumns } from '../../audit/entry-columns.js';
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';

/** An audit entry as stored: its exact canonical bytes and its leaf hash (SPEC §6). */
export interface StoredAuditEntry {
  readonly index: number;
  readonly canonical: Buffer;
  readonly leafHash: Buffer;
}

/** An entry with the columns it is indexed by (audit/entry-columns.ts), for verification. */
export interface IndexedAuditEntry extends StoredAuditEntry {
  readonly columns: EntryColumns;
}

/** The filters of `GET /v1/audit/entries` (SPEC §6), in index order. */
export interface AuditQuery {
  readonly artifact?: { product: string; class: string; name: string } | undefined;
  readonly principal?: string | undefined;
  readonly allow?: boolean | undefined;
  readonly threat?: string | undefined;
  /** ISO-8601: entries at or after this time. */
  readonly since?: string | undefined;
  /** Exclusive lower bound on the index (from a cursor). */
  readonly afterIndex?: number | undefined;
  /** Inclusive upper bound on the index: where a bounded scan of the log stops. */
  readonly throughIndex?: number | undefined;
  /** Only entries whose principal belongs to this product or whose target is in its namespace. */
  readonly visibleTo?: string | undefined;
  readonly limit: number;
}

export interface StoredCheckpoint {
  readonly size: number;
  readonly rootHash: Buffer;
  /** The signed note text. */
  readonly note: string;
  readonly createdAt: string;
}

/** The audit log's storage: entries, the tree's stored subtrees, checkpoints (SPEC §6). */
export interface AuditStore {
  /**
   * Appends entries in index order, each with its tree update, in one transaction (shared with
   * concurrent appends and version commits); resolves once durable.
   */
  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]>;
  /** The number of committed entries: the tree size. */
  auditSize(): Promise<number>;
  /** The hashes of stored complete subtrees (level 0 = leaves); rejects when one does not exist. */
  auditSubtrees(ids: readonly SubtreeId[]): Promise<Buffer[]>;
  auditEntry(index: number): Promise<StoredAuditEntry | null>;
  auditEntries(query: AuditQuery): Promise<StoredAuditEntry[]>;
  /** Entries [from, to) in index order, read in pages. */
  auditRange(from: number, to: number): AsyncIterable<StoredAuditEntry>;
  /** The same with each entry's indexed columns, for verification. */
  auditRangeIndexed(from: number, to: number): AsyncIterable<IndexedAuditEntry>;
  /** Stores a checkpoint; one per tree size (a second one for the same size is ignored). */
  insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  /** Every stored checkpoint, smallest size first. */
  checkpoints(): AsyncIterable<StoredCheckpoint>;
}
