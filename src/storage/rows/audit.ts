/** Rows of the audit log: entries, their indexed columns, checkpoints (SPEC §6). */
import type { IndexedAuditEntry, StoredAuditEntry, StoredCheckpoint } from '../ports/audit.js';
import { flag, type Flag } from './flag.js';

export interface EntryRow {
  idx: number;
  canonical: Buffer;
  leaf_hash: Buffer;
}

export function toEntry(row: EntryRow): StoredAuditEntry {
  return { index: row.idx, canonical: row.canonical, leafHash: row.leaf_hash };
}

/** The columns of an IndexedEntryRow. */
export const INDEXED_ENTRY_COLUMNS =
  'idx, canonical, leaf_hash, time, allow, operation, principal_id, principal_product, ' +
  'target_product, target_class, target_name, threats';

export interface IndexedEntryRow extends EntryRow {
  time: string;
  allow: Flag;
  operation: string;
  principal_id: string;
  principal_product: string | null;
  target_product: string | null;
  target_class: string | null;
  target_name: string | null;
  threats: string;
}

export function toIndexedEntry(row: IndexedEntryRow): IndexedAuditEntry {
  return {
    index: row.idx,
    canonical: row.canonical,
    leafHash: row.leaf_hash,
    columns: {
      time: row.time,
      allow: flag(row.allow),
      operation: row.operation,
      principalId: row.principal_id,
      principalProduct: row.principal_product,
      targetProduct: row.target_product,
      targetClass: row.target_class,
      targetName: row.target_name,
      threats: row.threats,
    },
  };
}

export interface CheckpointRow {
  size: number;
  root_hash: Buffer;
  note: string;
  created_at: string;
}

export function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return { size: row.size, rootHash: row.root_hash, note: row.note, createdAt: row.created_at };
}
