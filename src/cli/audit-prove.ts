/**
 * `bucket audit prove`: what an auditor checks against a running Bucket without trusting it, with
 * only the verifier key they hold —
 *   - the current checkpoint is signed by that key;
 *   - an entry (a write's receipt: `audit.leafIndex`, `audit.leafHash`) is in that signed tree:
 *     its canonical bytes hash to its leaf hash, and the inclusion proof leads to the signed root;
 *   - the log still extends a checkpoint saved earlier (`--save-checkpoint`): nothing was rewritten,
 *     removed or forked behind it (consistency proof, RFC 9162 §2.1.4).
 * Every hash is recomputed here (src/audit/proof.ts, note.ts); the server only supplies them.
 */
import { rename, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseCheckpointBody, openNote, NoteError, type NoteVerifier } from '../audit/note.js';
import { ProofError, verifyConsistency, verifyInclusion } from '../audit/proof.js';
import { leafHash } from '../audit/rfc6962.js';
import { SHA256_HEX } from '../domain/sha256.js';
import { ServerError, type BucketClient } from './client.js';
import { CliError, UsageError } from './errors.js';

export interface ProveRequest {
  readonly verifier: NoteVerifier;
  /** The entry to prove, from a write's receipt (`audit.leafIndex`). */
  readonly index?: number;
  /** The receipt's `audit.leafHash`: the entry must hash to it. */
  readonly leafHash?: string;
  /**
   * A file holding a checkpoint note saved earlier: the log must extend it. When it does not
   * exist and is also `save`, this is the first run of a rolling checkpoint: nothing is compared.
   */
  readonly since?: string;
  /** Where to save the verified checkpoint note, for the next `--since-checkpoint`. */
  readonly save?: string;
}

/** What was checked; the optional parts are filled in as each check passes. */
export interface ProveReport {
  readonly checkpoint: { origin: string; size: number; rootHash: string; keyId: string };
  entry?: {
    readonly index: number;
    readonly leafHash: string;
    readonly proofHashes: number;
    /** The entry's decision, when this key may read the entry (else only its receipt is proved). */
    readonly decision: string | null;
  };
  consistency?: {
    readonly from: number;
    readonly to: number;
    readonly proofHashes: number;
  };
  saved?: string;
  /** The --since-checkpoint file that did not exist yet (a first run): nothing was compared. */
  firstRun?: string;
}

/** A check that failed: what it proves is wrong with the log (or with what the auditor holds). */
export class ProofFailure extends CliError {}

interface CheckpointAnswer {
  readonly note: unknown;
}

interface EntryAnswer {
  readonly canonical: string;
  readonly leafHash: string;
  readonly entry: { allow: boolean; status: number; operation: string; principal: { id: string } };
}

function hashes(hex: unknown, what: string): Buffer[] {
  if (!Array.isArray(hex)) throw new ProofFailure(`the server's ${what} is not a list of hashes`);
  return hex.map((h: unknown) => {
    if (typeof h !== 'string' || !SHA256_HEX.test(h)) {
      throw new ProofFailure(`the ${what} holds a malformed hash: ${String(h)}`);
    }
    return Buffer.from(h, 'hex');
  });
}

/** Opens and parses a signed checkpoint note with the auditor's key. */
function openCheckpoint(note: string, verifier: NoteVerifier, where: string) {
  try {
    const checkpoint = parseCheckpointBody(openNote(note, verifier));
    // The key's name is the log's origin (SPEC §6): a checkpoint of another log is not this one's.
    if (checkpoint.origin !== verifier.name) {
      throw new ProofFailure(
        `${where} is of the log ${checkpoint.origin}, not of ${verifier.name} (the key's log)`,
      );
    }
    return checkpoint;
  } catch (error) {
    if (error instanceof NoteError) {
      throw new ProofFailure(
        `${where} does not verify with the key ${verifier.name}+${verifier.keyId.toString('hex')}: ${error.message}`,
      );
    }
    throw error;
  }
}

function failed(error: unknown, what: string): never {
  if (error instanceof ProofError) throw new ProofFailure(`${what}: ${error.message}`);
  throw error;
}

export async function prove(client: BucketClient, request: ProveRequest): Promise<ProveReport> {
  if (request.leafHash !== undefined && !SHA256_HEX.test(request.leafHash)) {
    throw new UsageError('--leaf-hash is the 64 hex digits of a receipt’s audit.leafHash');
  }
  if (request.leafHash !== undefined && request.index === undefined) {
    throw new UsageError('--leaf-hash needs the entry’s index (the receipt’s audit.leafIndex)');
  }
  let saved: string | undefined;
  let firstRun = false;
  if (request.since !== undefined) {
    try {
      saved = await readFile(request.since, 'utf8');
    } catch (error) {
      // The one command line a scheduled audit repeats: its first run has nothing saved yet.
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const rolling =
        request.save !== undefined && resolve(request.since) === resolve(request.save);
      if (!missing || !rolling) {
        throw new UsageError(
          `cannot read --since-checkpoint ${request.since}: ${(error as Error).message}`,
        );
      }
      firstRun = true;
    }
  }

  const { note } = await client.json<CheckpointAnswer>('GET', '/v1/audit/checkpoint');
  if (typeof note !== 'string')
    throw new ProofFailure('the current checkpoint is not a signed note');
  const checkpoint = openCheckpoint(note, request.verifier, 'the current checkpoint');
  const { size, rootHash: root } = checkpoint;
  const report: ProveReport = {
    checkpoint: {
      origin: checkpoint.origin,
      size,
      rootHash: root.toString('hex'),
      keyId: request.verifier.keyId.toString('hex'),
    },
  };

  if (request.index !== undefined) {
    const index = request.index;
    if (index >= size) {
      throw new ProofFailure(
        `entry ${index} is not in the signed log, which holds ${size} entries`,
      );
    }
    let entry: EntryAnswer | null = null;
    try {
      entry = await client.json<EntryAnswer>('GET', `/v1/audit/entries/${index}`);
    } catch (error) {
      // A product key reads only its product's entries: its receipt can still be proved.
      const hidden = error instanceof ServerError && [403, 404].includes(error.status);
      if (!hidden || request.leafHash === undefined) throw error;
    }
    let leaf: Buffer;
    if (entry) {
      leaf = leafHash(Buffer.from(entry.canonical, 'utf8'));
      if (leaf.toString('hex') !== entry.leafHash) {
        throw new ProofFailure(
          `entry ${index}: its canonical bytes hash to ${leaf.toString('hex')}, the server says ${entry.leafHash}`,
        );
      }
    } else {
      leaf = Buffer.from(request.leafHash ?? '', 'hex');
    }
    if (request.leafHash !== undefined && leaf.toString('hex') !== request.leafHash) {
      throw new ProofFailure(
        `entry ${index} hashes to ${leaf.toString('hex')}, not to the receipt's ${request.leafHash}`,
      );
    }
    const answer = await client.json<{ proof: unknown }>('GET', '/v1/audit/proof/inclusion', {
      query: { index, size },
    });
    const proof = hashes(answer.proof, 'inclusion proof');
    try {
      verifyInclusion(index, size, leaf, proof, root);
    } catch (error) {
      failed(error, `entry ${index} is not in the signed tree of ${size}`);
    }
    const decision = entry
      ? `${entry.entry.allow ? 'ALLOW' : 'DENY'} ${entry.entry.status} ${entry.entry.operation} by ${entry.entry.principal.id}`
      : null;
    report.entry = { index, leafHash: leaf.toString('hex'), proofHashes: proof.length, decision };
  }

  if (saved !== undefined) {
    const earlier = openCheckpoint(
      saved,
      request.verifier,
      `the saved checkpoint ${request.since}`,
    );
    if (earlier.size > size) {
      throw new ProofFailure(
        `the log holds ${size} entries, fewer than the ${earlier.size} of the saved checkpoint: ` +
          'it was truncated or rewritten',
      );
    }
    const answer = await client.json<{ proof: unknown }>('GET', '/v1/audit/proof/consistency', {
      query: { from: earlier.size, to: size },
    });
    const proof = hashes(answer.proof, 'consistency proof');
    try {
      verifyConsistency(earlier.size, size, earlier.rootHash, root, proof);
    } catch (error) {
      failed(
        error,
        `the log of ${size} entries does not extend the saved checkpoint of ${earlier.size}`,
      );
    }
    report.consistency = { from: earlier.size, to: size, proofHashes: proof.length };
  }

  if (request.save !== undefined) {
    // Beside the target, then renamed: an interrupted save leaves the previous file whole.
    const temporary = `${request.save}.tmp-${process.pid}`;
    try {
      await writeFile(temporary, note, { mode: 0o644 });
      await rename(temporary, request.save);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new CliError(
        `cannot save the checkpoint to ${request.save}: ${(error as Error).message}`,
      );
    }
    report.saved = request.save;
  }
  if (firstRun) report.firstRun = request.since;
  return report;
}

const hashCount = (n: number) => `${n} proof hash${n === 1 ? '' : 'es'}`;

/** The report as the lines `bucket audit prove` prints. */
export function proveLines(report: ProveReport): string[] {
  const { checkpoint, entry, consistency, saved, firstRun } = report;
  const lines = [
    `checkpoint:  ${checkpoint.origin}, ${checkpoint.size} entries, root ${checkpoint.rootHash}`,
    `             signature verified with key ${checkpoint.keyId}`,
  ];
  if (entry) {
    lines.push(
      `entry ${entry.index}: in the signed tree (leaf ${entry.leafHash}, ${hashCount(entry.proofHashes)})` +
        (entry.decision
          ? `: ${entry.decision}`
          : ' (receipt proved; the entry is not readable with this key)'),
    );
  }
  if (consistency) {
    lines.push(
      `consistent:  the log of ${consistency.to} entries extends the saved checkpoint of ` +
        `${consistency.from} (${hashCount(consistency.proofHashes)})`,
    );
  }
  if (firstRun) {
    lines.push(
      `consistent:  not checked: nothing was saved in ${firstRun} yet (a first run); the next ` +
        'run checks against the checkpoint saved now',
    );
  }
  if (saved) lines.push(`saved:       ${saved}`);
  return lines;
}
