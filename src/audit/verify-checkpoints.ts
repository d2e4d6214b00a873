/**
 * The signed-note checkpoints (C2SP tlog-checkpoint) of an audit log checked against the tree
 * recomputed from its entries: each one's signature and origin, and its root at its size; sizes
 * must grow, and a checkpoint beyond the last entry means the log was truncated.
 */
import type { CompactRange } from './compact.js';
import { NoteError, openNote, parseCheckpointBody, type NoteVerifier } from './note.js';
import type { Problems } from './verify-report.js';

export interface VerifyCheckpoint {
  /** The size the checkpoint is stored under. */
  readonly size: number;
  /** The signed note text. */
  readonly note: string;
  /** The root stored beside the note, when the source keeps one. */
  readonly rootHash?: Buffer;
}

function toIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source
    ? source[Symbol.asyncIterator]()
    : (source as Iterable<T>)[Symbol.iterator]();
}

/** Walks checkpoints alongside the growing tree, checking each one when the tree reaches its size. */
export class CheckpointChecker {
  checked = 0;
  skipped = 0;
  private readonly iterator: AsyncIterator<VerifyCheckpoint> | Iterator<VerifyCheckpoint>;
  private next: VerifyCheckpoint | null | undefined;
  private lastSize = -1;

  /** `checkpoints` smallest size first; `from` is the first entry a partial export holds. */
  constructor(
    checkpoints: AsyncIterable<VerifyCheckpoint> | Iterable<VerifyCheckpoint>,
    private readonly verifier: NoteVerifier,
    private readonly problems: Problems,
    private readonly from: number,
  ) {
    this.iterator = toIterator(checkpoints);
  }

  private async peek(): Promise<VerifyCheckpoint | null> {
    if (this.next === undefined) {
      const result = await this.iterator.next();
      this.next = result.done ? null : result.value;
    }
    return this.next;
  }

  /** Checks every checkpoint whose size the tree has reached. */
  async reach(tree: CompactRange): Promise<void> {
    for (let checkpoint = await this.peek(); checkpoint; checkpoint = await this.peek()) {
      if (checkpoint.size > tree.size) return;
      this.next = undefined;
      if (checkpoint.size <= this.lastSize) {
        this.problems.add(
          'checkpoint_order',
          `checkpoint at size ${checkpoint.size}: comes after the one at size ${this.lastSize} (sizes must grow)`,
        );
        continue;
      }
      this.lastSize = checkpoint.size;
      if (checkpoint.size < tree.size || checkpoint.size < this.from) {
        // Below the start of a partial export: its root is not recomputable from these entries.
        this.skipped += 1;
        continue;
      }
      this.check(checkpoint, tree.root());
    }
  }

  /** After the last entry: whatever checkpoint is left claims entries the log no longer has. */
  async finish(tree: CompactRange): Promise<void> {
    await this.reach(tree);
    for (let checkpoint = await this.peek(); checkpoint; checkpoint = await this.peek()) {
      this.next = undefined;
      this.problems.add(
        'truncated',
        `log has ${tree.size} entries but checkpoint at size ${checkpoint.size} exists (truncated)`,
      );
      this.signedBody(checkpoint);
    }
  }

  private signedBody(checkpoint: VerifyCheckpoint) {
    return signedCheckpointBody(checkpoint, this.verifier, this.problems);
  }

  private check(checkpoint: VerifyCheckpoint, recomputed: Buffer): void {
    const at = `checkpoint at size ${checkpoint.size}`;
    const body = this.signedBody(checkpoint);
    if (checkpoint.rootHash && !checkpoint.rootHash.equals(recomputed)) {
      this.problems.add(
        'checkpoint_root',
        `${at}: stored root ${checkpoint.rootHash.toString('hex')} does not match the log (recomputed ${recomputed.toString('hex')})`,
      );
    }
    if (body) {
      if (body.size !== checkpoint.size) {
        this.problems.add('checkpoint_size', `${at}: its signed note says size ${body.size}`);
      } else if (!body.rootHash.equals(recomputed)) {
        this.problems.add(
          'checkpoint_root',
          `${at}: signed root ${body.rootHash.toString('hex')} does not match the log (recomputed ${recomputed.toString('hex')})`,
        );
      }
    }
    this.checked += 1;
  }
}

/** The checkpoint's signed body, or null after reporting why it cannot be trusted. */
export function signedCheckpointBody(
  checkpoint: VerifyCheckpoint,
  verifier: NoteVerifier,
  problems: Problems,
) {
  const at = `checkpoint at size ${checkpoint.size}`;
  let text: string;
  try {
    text = openNote(checkpoint.note, verifier);
  } catch (error) {
    const detail = error instanceof NoteError ? error.message : String(error);
    problems.add('checkpoint_signature', `${at}: bad signature (${detail})`);
    return null;
  }
  try {
    const body = parseCheckpointBody(text);
    if (body.origin !== verifier.name) {
      problems.add(
        'checkpoint_origin',
        `${at}: origin "${body.origin}" does not match the key name "${verifier.name}"`,
      );
    }
    return body;
  } catch (error) {
    problems.add('checkpoint_malformed', `${at}: ${(error as Error).message}`);
    return null;
  }
}
