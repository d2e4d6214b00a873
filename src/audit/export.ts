/**
 * The audit export (`GET /v1/audit/export`, format bhiv-bucket-audit-export/1), read line by line:
 * a header with the frontier before `from`, one line per entry of [from, to), and last the
 * checkpoint signed for `to`. Parsing only; reading the file is the caller's.
 */
import { isJsonObject } from './entry.js';
import { SHA256_HEX } from '../domain/sha256.js';
import type { VerifyCheckpoint } from './verify-checkpoints.js';
import type { VerifyEntry } from './verify-entries.js';

export interface ExportHeader {
  readonly from: number;
  readonly to: number;
  /** The hashes of decompose(0, from): the tree before the first entry exported. */
  readonly frontier: Buffer[];
  readonly origin: string;
  /** A namespace key's export: only the entries concerning this product, each with its proof. */
  readonly filter: { readonly product: string } | null;
}

/** An entry line; a filtered export's carries its inclusion proof against the checkpoint. */
export interface ExportEntry extends VerifyEntry {
  readonly proof: Buffer[] | null;
}

type ExportLine = Record<string, unknown>;

/**
 * A line's fields; undefined when it is not JSON. JSON that is not an object has no fields, so it
 * reads as no header, entry or checkpoint.
 */
export function parseExportLine(line: string): ExportLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return isJsonObject(value) ? value : {};
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function hashOf(value: unknown): Buffer | undefined {
  return typeof value === 'string' && SHA256_HEX.test(value)
    ? Buffer.from(value, 'hex')
    : undefined;
}

export function isCheckpointLine(line: ExportLine): boolean {
  return line['type'] === 'checkpoint';
}

export function exportHeader(line: ExportLine): ExportHeader | null {
  const { from, to, frontier, origin } = line;
  const hashes = Array.isArray(frontier) ? frontier.map(hashOf) : null;
  const filter = line['filter'];
  const product = isJsonObject(filter) ? filter['product'] : undefined;
  if (
    line['type'] !== 'header' ||
    !isSize(from) ||
    !isSize(to) ||
    from > to ||
    typeof origin !== 'string' ||
    hashes === null ||
    !hashes.every((hash) => hash !== undefined) ||
    (filter !== undefined && typeof product !== 'string')
  ) {
    return null;
  }
  const scope = typeof product === 'string' ? { product } : null;
  return { from, to, origin, frontier: hashes, filter: scope };
}

export function exportEntry(line: ExportLine): ExportEntry | null {
  const { index, canonical } = line;
  const leafHash = hashOf(line['leafHash']);
  const proof = Array.isArray(line['proof']) ? line['proof'].map(hashOf) : null;
  if (
    line['type'] !== 'entry' ||
    !isSize(index) ||
    typeof canonical !== 'string' ||
    !leafHash ||
    (line['proof'] !== undefined && (proof === null || proof.some((hash) => !hash)))
  ) {
    return null;
  }
  return {
    index,
    canonical: Buffer.from(canonical, 'utf8'),
    leafHash,
    proof: proof === null ? null : (proof as Buffer[]),
  };
}

export function exportCheckpoint(line: ExportLine): VerifyCheckpoint | null {
  const { size, note } = line;
  const rootHash = hashOf(line['rootHash']);
  if (!isCheckpointLine(line) || !isSize(size) || typeof note !== 'string' || !rootHash) {
    return null;
  }
  return { size, note, rootHash };
}
