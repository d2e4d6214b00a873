/**
 * The versions written since the last passed scrub, checked against the allowed entries that
 * created them (certification G1, G3, G4, G7). The scrub checked every earlier version against
 * its entry; these are the rest, read from the log's tail — bounded, so that the certification
 * never scans every version (docs/decisions/0041).
 */
import { isJsonObject } from '../../audit/entry.js';
import type { MetadataStore } from '../../storage/ports.js';

/** The most entries of the log's tail one computation reads. */
export const RECENT_ENTRY_LIMIT = 10_000;

export interface RecentVersions {
  /** The first entry read (the last passed scrub's checkpoint size, or 0). */
  readonly from: number;
  /** Entries read, and whether the tail was longer than the limit (older entries left out). */
  readonly entries: number;
  readonly truncated: boolean;
  readonly versions: number;
  /** Versions whose stored digest or size differ from their entry's (a row rewritten). */
  readonly rewritten: readonly string[];
  /** Versions whose `createdBy` is no key and no built-in principal. */
  readonly unknownCreators: readonly string[];
  /** Versions stored without a recorded retention. */
  readonly withoutRetention: readonly string[];
  /** Versions whose entry names a version the store does not hold, or whose predecessor is missing. */
  readonly missing: readonly string[];
}

/** Ids of principals that are the Bucket itself (no key): `system`, `bucket:…`. */
export function isBuiltInPrincipal(id: string): boolean {
  return id === 'system' || id.startsWith('bucket:');
}

const MAX_LISTED = 20;
const RETENTION_MODES: ReadonlySet<unknown> = new Set(['compliance', 'governance', 'none']);

function push(list: string[], label: string): void {
  if (list.length < MAX_LISTED) list.push(label);
}

export async function recentVersions(
  metadata: MetadataStore,
  from: number,
  to: number,
): Promise<RecentVersions> {
  const start = Math.max(from, to - RECENT_ENTRY_LIMIT);
  const keyIds = new Set((await metadata.listKeys()).map((key) => key.id));
  const rewritten: string[] = [];
  const unknownCreators: string[] = [];
  const withoutRetention: string[] = [];
  const missing: string[] = [];
  let entries = 0;
  let versions = 0;
  for await (const entry of metadata.auditRangeIndexed(start, to)) {
    entries += 1;
    if (!entry.columns.allow || entry.columns.operation === 'READ') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry.canonical.toString('utf8'));
    } catch {
      continue; // bytes that are no entry: G2's finding (audit-tail.ts), not a crash here
    }
    if (!isJsonObject(parsed) || typeof parsed['version'] !== 'number') continue;
    if (parsed['purge'] !== undefined || parsed['governance'] !== undefined) continue;
    const target = isJsonObject(parsed['target']) ? parsed['target'] : {};
    const key = {
      product: String(target['product']),
      class: String(target['class']),
      name: String(target['name']),
    };
    const number = parsed['version'];
    const label = `${key.product}/${key.class}/${key.name} v${number}`;
    const stored = await metadata.getVersion(key, number);
    versions += 1;
    if (!stored) {
      push(missing, label);
      continue;
    }
    if (number > 1 && !(await metadata.getVersion(key, number - 1))) push(missing, label);
    if (!stored.purged && (stored.sha256 !== parsed['sha256'] || stored.size !== parsed['size'])) {
      push(rewritten, label);
    }
    if (!keyIds.has(stored.createdBy) && !isBuiltInPrincipal(stored.createdBy)) {
      push(unknownCreators, `${label} by ${stored.createdBy}`);
    }
    if (!RETENTION_MODES.has(stored.retention?.mode)) {
      push(withoutRetention, label);
    }
  }
  return {
    from: start,
    entries,
    truncated: start > from,
    versions,
    rewritten,
    unknownCreators,
    withoutRetention,
    missing,
  };
}
