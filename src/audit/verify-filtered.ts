/**
 * Verification of a filtered export (SPEC §6: a namespace key's export holds only the entries
 * concerning its product): the tree cannot be recomputed from a subset, so each entry is checked
 * on its own — its bytes, its leaf hash, that it concerns the product, and its inclusion proof
 * against the signed checkpoint. What it cannot show is that no entry of the product was left out.
 */
import type { NoteVerifier } from './note.js';
import { ProofError, verifyInclusion } from './proof.js';
import { signedCheckpointBody, type VerifyCheckpoint } from './verify-checkpoints.js';
import { checkEntryBytes, checkLeafHash, type VerifyEntry } from './verify-entries.js';
import { DEFAULT_MAX_PROBLEMS, Problems, type VerifyReport } from './verify-report.js';

export interface FilteredEntry extends VerifyEntry {
  /** The inclusion proof against the checkpoint (hashes), null when the line carries none. */
  readonly proof: readonly Buffer[] | null;
}

export interface FilteredSource {
  readonly entries: AsyncIterable<FilteredEntry> | Iterable<FilteredEntry>;
  /** The range the export covers: entries [from, size). */
  readonly from: number;
  readonly size: number;
  /** The product whose entries the export holds. */
  readonly product: string;
  /** The checkpoint signed for `size`, null when the export has none. */
  readonly checkpoint: VerifyCheckpoint | null;
  readonly verifier: NoteVerifier;
  readonly onProgress?: (done: number, total: number | undefined) => void;
  readonly maxProblems?: number;
}

/** Whether an entry concerns `product`: its principal belongs to it or its target is in it. */
function concerns(parsed: Record<string, unknown>, product: string): boolean {
  const productOf = (member: unknown) =>
    member !== null && typeof member === 'object'
      ? (member as { product?: unknown }).product
      : null;
  return productOf(parsed['principal']) === product || productOf(parsed['target']) === product;
}

/** Verifies a filtered export; never throws on what it reads, every finding is a problem. */
export async function verifyFilteredExport(source: FilteredSource): Promise<VerifyReport> {
  const problems = new Problems(source.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  const { size, product } = source;
  const body = source.checkpoint
    ? signedCheckpointBody(source.checkpoint, source.verifier, problems)
    : null;
  if (body && body.size !== size) {
    problems.add('checkpoint_size', `the signed checkpoint is of size ${body.size}, not ${size}`);
  }
  const root = body && body.size === size ? body.rootHash : null;
  let previous = source.from - 1;
  let entries = 0;
  for await (const entry of source.entries) {
    const at = `entry ${entry.index}`;
    if (entry.index >= size) {
      problems.add('entry_beyond_log', `${at}: beyond the export's end at ${size}`);
    } else if (entry.index <= previous) {
      problems.add('entry_out_of_order', `${at}: after entry ${previous}`);
    }
    previous = Math.max(previous, entry.index);
    const leafHash = checkLeafHash(entry, problems);
    const parsed = checkEntryBytes(entry, problems);
    if (parsed && !concerns(parsed, product)) {
      problems.add(
        'entry_outside_filter',
        `${at}: concerns neither a principal nor a target of ${product}`,
      );
    }
    if (root && entry.index < size) {
      try {
        if (!entry.proof) throw new Error('the line carries no inclusion proof');
        verifyInclusion(entry.index, size, leafHash, entry.proof, root);
      } catch (error) {
        const detail = error instanceof ProofError || error instanceof Error ? error.message : '';
        problems.add('inclusion_proof', `${at}: not included in the checkpoint's tree (${detail})`);
      }
    }
    entries += 1;
  }
  source.onProgress?.(entries, entries);
  return {
    entries,
    treeSize: size,
    rootHash: root?.toString('hex') ?? '',
    checkpoints: body ? 1 : 0,
    checkpointsSkipped: 0,
    versions: 0,
    policyVersions: 0,
    keys: 0,
    problems: problems.list,
    problemCount: problems.count,
  };
}
