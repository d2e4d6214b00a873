/** Audit log reads the views share (SPEC §6). */
import { api, query } from '../api';

export interface AuditEntry {
  index: number;
  time: string;
  requestId: string;
  allow: boolean;
  status: number;
  operation: string;
  principal: { id: string; kind: string; product: string | null } | null;
  target: { product: string; class?: string | null; name?: string | null } | null;
  reasons?: { rule: string; message: string }[];
  threats?: { id: string; name: string }[];
}

/** An entry as the audit routes answer it: with its exact canonical bytes and leaf hash. */
export interface ListedEntry {
  index: number;
  entry: AuditEntry;
  canonical: string;
  leafHash: string;
}

export interface EntryPage {
  entries: ListedEntry[];
  nextCursor: string | null;
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: string;
  note: string;
}

export type AuditFilters = Record<string, string | undefined>;

/** The last `count` entries matching `filters` among the latest few thousand of the log. */
export async function auditTail(filters: AuditFilters, count: number): Promise<AuditEntry[]> {
  const checkpoint = await api<Checkpoint>('/v1/audit/checkpoint');
  let cursor: string | undefined =
    checkpoint.size > 2000 ? String(checkpoint.size - 2000) : undefined;
  let found: AuditEntry[] = [];
  for (let page = 0; page < 10; page++) {
    const answer: EntryPage = await api<EntryPage>(
      `/v1/audit/entries${query({ ...filters, limit: 1000, cursor })}`,
    );
    found = [...found, ...answer.entries.map((listed) => listed.entry)].slice(-count);
    if (answer.nextCursor === null) break;
    cursor = answer.nextCursor;
  }
  return found.reverse();
}
