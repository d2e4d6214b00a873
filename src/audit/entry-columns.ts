/**
 * The columns an audit entry is indexed by beside its exact bytes (SPEC §6 `GET /v1/audit/entries`
 * filters: artifact, principal, decision, threat, since; a product key's subset). Both stores write
 * them from the entry and `bucket audit verify` checks them against the bytes: an edited column
 * would hide an entry from a filter (`?decision=deny`) or from the product allowed to see it.
 */
import type { Problems } from './verify-report.js';
import { isJsonObject } from './entry.js';

export interface EntryColumns {
  readonly time: string;
  readonly allow: boolean;
  readonly operation: string;
  readonly principalId: string;
  readonly principalProduct: string | null;
  readonly targetProduct: string | null;
  readonly targetClass: string | null;
  readonly targetName: string | null;
  /** The threat ids between spaces (` T1 T4 `, searched as ` T1 `), or '' when there is none. */
  readonly threats: string;
}

interface IndexedEntry {
  readonly time: string;
  readonly allow: boolean;
  readonly operation: string;
  readonly principal: { readonly id: string; readonly product: string | null };
  readonly target: {
    readonly product: string | null;
    readonly class: string | null;
    readonly name: string | null;
  };
  readonly threats: readonly { readonly id: string }[];
}

/** The columns of an entry, as both stores write them. */
export function entryColumns(entry: IndexedEntry): EntryColumns {
  return {
    time: entry.time,
    allow: entry.allow,
    operation: entry.operation,
    principalId: entry.principal.id,
    principalProduct: entry.principal.product,
    targetProduct: entry.target.product,
    targetClass: entry.target.class,
    targetName: entry.target.name,
    threats: entry.threats.length === 0 ? '' : ` ${entry.threats.map((t) => t.id).join(' ')} `,
  };
}

const COLUMN_NAMES: Record<keyof EntryColumns, string> = {
  time: 'time',
  allow: 'allow',
  operation: 'operation',
  principalId: 'principal_id',
  principalProduct: 'principal_product',
  targetProduct: 'target_product',
  targetClass: 'target_class',
  targetName: 'target_name',
  threats: 'threats',
};

/** The columns a parsed entry implies, or null when its bytes lack a member they come from. */
function impliedColumns(parsed: Record<string, unknown>): EntryColumns | null {
  const { principal, target, threats } = parsed;
  if (!isJsonObject(principal) || !isJsonObject(target) || !Array.isArray(threats)) return null;
  if (!threats.every((t) => isJsonObject(t) && typeof t['id'] === 'string')) return null;
  return entryColumns(parsed as unknown as IndexedEntry);
}

/** Each stored column of an entry against what its bytes say (`entry_column_mismatch`). */
export function checkEntryColumns(
  index: number,
  parsed: Record<string, unknown>,
  stored: EntryColumns,
  problems: Problems,
): void {
  const implied = impliedColumns(parsed);
  if (!implied) return; // entry_malformed territory: the bytes are what they are.
  for (const key of Object.keys(COLUMN_NAMES) as (keyof EntryColumns)[]) {
    if (stored[key] === (implied[key] ?? null)) continue;
    problems.add(
      'entry_column_mismatch',
      `entry ${index}: column ${COLUMN_NAMES[key]} is ${JSON.stringify(stored[key])}, ` +
        `its bytes say ${JSON.stringify(implied[key] ?? null)}`,
    );
  }
}
