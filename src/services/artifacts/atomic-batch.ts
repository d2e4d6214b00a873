/**
 * The commit of an atomic batch (SPEC §15 `?atomic=true`): every item is decided as it would be
 * alone, but instead of committing it hands its commit here and waits. Once every item has either
 * handed its commit or failed, the commits go to the store in one transaction
 * (`commitVersionsAtomically`) — all of them, or, after any failure or refusal, none: the item
 * that failed keeps its own error, every other one fails with 409 `batch_aborted`.
 */
import { BucketError } from '../../domain/errors.js';
import type { CommitRefusal } from '../../domain/commit.js';
import type { MetadataStore, VersionCommit } from '../../storage/ports.js';
import { heldError, type CommitOutcome } from './commit.js';

interface Waiting {
  readonly commit: VersionCommit;
  readonly resolve: (outcome: CommitOutcome) => void;
  readonly reject: (error: unknown) => void;
}

export class AtomicBatchCommit {
  private readonly waiting = new Map<number, Waiting>();
  private readonly failed = new Set<number>();
  private done = false;

  constructor(
    private readonly metadata: Pick<MetadataStore, 'commitVersionsAtomically'>,
    private readonly items: number,
  ) {}

  /** Item `index`'s commit: settles once the whole batch committed, or was aborted. */
  commit(index: number, commit: VersionCommit): Promise<CommitOutcome> {
    return new Promise<CommitOutcome>((resolve, reject) => {
      if (this.done) return reject(aborted());
      this.waiting.set(index, { commit, resolve, reject });
      this.settleWhenAllIn();
    });
  }

  /** Item `index` failed before handing a commit (a denial, a bad line, a body refused). */
  itemFailed(index: number): void {
    if (this.waiting.has(index)) return;
    this.failed.add(index);
    this.settleWhenAllIn();
  }

  private settleWhenAllIn(): void {
    if (this.done || this.waiting.size + this.failed.size < this.items) return;
    this.done = true;
    if (this.failed.size > 0) {
      for (const item of this.waiting.values()) item.reject(aborted());
      return;
    }
    const order = [...this.waiting.keys()].sort((a, b) => a - b);
    const commits = order.map((index) => (this.waiting.get(index) as Waiting).commit);
    this.metadata.commitVersionsAtomically(commits).then(
      (result) => {
        order.forEach((index, position) => {
          const item = this.waiting.get(index) as Waiting;
          if (result.ok) {
            const done = result.results[position];
            if (done) item.resolve({ ok: true, receipt: done.receipt });
            else item.reject(aborted());
          } else if (position === result.index) {
            item.reject(refusalError(result.refusal, item.commit));
          } else {
            item.reject(aborted());
          }
        });
      },
      (error: unknown) => {
        for (const item of this.waiting.values()) item.reject(error);
      },
    );
  }
}

/** The error of an atomic batch's item that was not written because another one failed. */
export function aborted(): BucketError {
  return new BucketError(
    'batch_aborted',
    'not written: another item of this atomic batch failed (see its result); nothing was written',
  );
}

function refusalError(refusal: CommitRefusal, commit: VersionCommit): BucketError {
  if (refusal.reason === 'insufficient_storage') {
    return new BucketError('insufficient_storage', refusal.message);
  }
  if (refusal.reason === 'legal_hold') return heldError(commit.version, refusal.holds);
  if (refusal.reason === 'subject_erased') {
    return new BucketError(
      'conflict',
      `the data subject of ${commit.version.name} was erased while this batch was in flight; ` +
        'send the batch again',
    );
  }
  return new BucketError(
    'version_conflict',
    `a concurrent write moved ${commit.version.name} to version ${refusal.current}; retry the batch`,
  );
}
