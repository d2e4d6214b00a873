/**
 * The entries of an audit log (SPEC §6) checked one by one as the tree is recomputed: each at its
 * position, its stored leaf hash against RFC 6962 §2.1 over its bytes, and its bytes as the RFC
 * 8785 canonical JSON of an entry that names its own index.
 */
import { CompactRange, decompose } from './compact.js';
import type { EntryColumns } from './entry-columns.js';
import { isCanonicalJson, isJsonObject } from './entry.js';
import { HASH_SIZE, leafHash as leafHashOf } from './rfc6962.js';
import type { Problems } from './verify-report.js';

export interface VerifyEntry {
  readonly index: number;
  readonly canonical: Buffer;
  /** The leaf hash stored beside the bytes, when the source keeps one. */
  readonly leafHash?: Buffer;
  /** The columns the store indexes the entry by, when the source is a store. */
  readonly columns?: EntryColumns;
}

/** "entry 4 is" or "entries 4..9 are": the entries in [first, end). */
function range(first: number, end: number): string {
  return end - first === 1 ? `entry ${first} is` : `entries ${first}..${end - 1} are`;
}

/** The tree before the first entry read: empty, or rebuilt from the frontier of a partial export. */
export function startingTree(
  from: number,
  frontier: readonly Buffer[],
  problems: Problems,
): CompactRange {
  try {
    return from === 0 && frontier.length === 0
      ? CompactRange.empty()
      : CompactRange.fromHashes(from, frontier);
  } catch (error) {
    problems.add(
      'frontier_invalid',
      `the frontier before entry ${from} is invalid (${(error as Error).message}); ` +
        'no checkpoint can match',
    );
    // Zero hashes keep the sizes right, so every later finding still names the right entries.
    return CompactRange.fromHashes(
      from,
      decompose(0, from).map(() => Buffer.alloc(HASH_SIZE)),
    );
  }
}

/** Checks an entry's stored index against its position; returns the next index expected. */
export function checkPosition(
  index: number,
  expected: number,
  size: number | undefined,
  problems: Problems,
): number {
  if (size !== undefined && index >= size) {
    problems.add('entry_beyond_log', `entry ${index} lies beyond the log size ${size}`);
  }
  if (index > expected) {
    problems.add(
      'entry_missing',
      `${range(expected, index)} missing (the log jumps from ${expected - 1} to ${index})`,
    );
    return index + 1;
  }
  if (index < expected) {
    problems.add(
      'entry_out_of_order',
      `entry ${index} appears again after entry ${expected - 1} (duplicated or out of order)`,
    );
    return expected;
  }
  return expected + 1;
}

/** After the last entry: the ones the log's size promises but that never came. */
export function checkEnd(expected: number, size: number | undefined, problems: Problems): void {
  if (size !== undefined && expected < size) {
    problems.add(
      'entry_missing',
      `${range(expected, size)} missing: the log has size ${size} but its entries end at ${expected}`,
    );
  }
}

/** The entry's leaf hash recomputed from its bytes, after matching it with the stored one. */
export function checkLeafHash(entry: VerifyEntry, problems: Problems): Buffer {
  const computed = leafHashOf(entry.canonical);
  if (entry.leafHash && !entry.leafHash.equals(computed)) {
    problems.add(
      'leaf_hash_mismatch',
      `entry ${entry.index}: leaf hash mismatch (stored ${entry.leafHash.toString('hex')}, ` +
        `SHA-256(0x00 || bytes) is ${computed.toString('hex')})`,
    );
  }
  return computed;
}

/** The entry's bytes parsed, after checking their form; null when they are no JSON object. */
export function checkEntryBytes(
  entry: VerifyEntry,
  problems: Problems,
): Record<string, unknown> | null {
  const text = entry.canonical.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.add('entry_malformed', `entry ${entry.index}: its bytes are not JSON`);
    return null;
  }
  if (!isJsonObject(parsed)) {
    problems.add('entry_malformed', `entry ${entry.index}: its bytes are not a JSON object`);
    return null;
  }
  if (!isCanonicalJson(parsed, text)) {
    problems.add(
      'entry_not_canonical',
      `entry ${entry.index}: its bytes are not RFC 8785 canonical JSON`,
    );
  }
  if (parsed['index'] !== entry.index) {
    problems.add(
      'entry_index_mismatch',
      `entry ${entry.index}: its bytes say index ${JSON.stringify(parsed['index'])}`,
    );
  }
  return parsed;
}
