/**
 * The write side of the PostgreSQL store: version commits (with their audit entries), audit
 * appends and governance changes with their allow entries, group-committed
 * (storage/group-commit.ts). Every batch is one transaction that first locks the audit tree head,
 * so the batches of all nodes serialize into one tree.
 */
import type pg from 'pg';
import type { AuditDraft, AuditReceipt } from '../../audit/entry.js';
import type { EventDraft } from '../../domain/events.js';
import type { UsageCounters } from '../../domain/usage.js';
import type { GroupCommit } from '../group-commit.js';
import { AtomicRefusal } from '../errors.js';
import type {
  AtomicCommitResult,
  ChangeEntry,
  CommitDone,
  CommitResult,
  VersionCommit,
} from '../ports.js';
import { TreeAppend } from './audit.js';
import { inSavepoint, pgGroupCommit, type Batch } from './group-commit.js';
import { VersionRows } from './version-rows.js';

/**
 * What one group-commit job does: commit a version (with its audit entry), append entries, or
 * make a governance change followed by its allow entry (see applyChange).
 */
type WriteJob =
  | { readonly kind: 'version'; readonly commit: VersionCommit }
  | { readonly kind: 'versions'; readonly commits: readonly VersionCommit[] }
  | { readonly kind: 'audit'; readonly drafts: readonly AuditDraft[] }
  | {
      readonly kind: 'logged';
      readonly run: (client: pg.PoolClient, log: ChangeLog) => Promise<unknown>;
    }
  | {
      readonly kind: 'change';
      readonly run: (client: pg.PoolClient) => Promise<unknown>;
      readonly changed: (result: unknown) => boolean;
      readonly draft: AuditDraft | undefined;
      readonly events: (result: unknown) => readonly EventDraft[];
      readonly afterEntry:
        | ((client: pg.PoolClient, result: unknown, receipt: AuditReceipt) => Promise<void>)
        | undefined;
    };
interface ChangeOutcome {
  readonly result: unknown;
  readonly receipt: AuditReceipt | null;
}
type WriteOutcome = CommitResult | CommitResult[] | AuditReceipt[] | ChangeOutcome;

const always = () => true;

/**
 * The audit log and the outbox as a change that appends several entries sees them (an erasure: an
 * entry per version, then its own): appended to the batch's tree, written at its end.
 */
export interface ChangeLog {
  append(draft: AuditDraft): AuditReceipt;
  events(drafts: readonly EventDraft[], auditIndex: number | null): void;
}

/** What a change appends beside itself, in its transaction (see applyChange). */
export interface PgChangeOptions<T> {
  /** The allow entry of the change (SPEC §6), appended after it. */
  readonly entry?: ChangeEntry | undefined;
  /** Whether the change found something to change; by default it did. */
  readonly changed?: (result: T) => boolean;
  /** The change's events (SPEC §10), pointing at its entry. */
  readonly events?: (result: T) => readonly EventDraft[];
  /** Runs in the savepoint once the entry is appended: a change that records where it sits. */
  readonly afterEntry?: (client: pg.PoolClient, result: T, receipt: AuditReceipt) => Promise<void>;
}

export class PgWriter {
  private readonly commits: GroupCommit<WriteJob, WriteOutcome>;

  constructor(
    pool: pg.Pool,
    /**
     * Told the usage every product has once a batch committed, or null when the batch cannot say
     * (a batch run isolated): the store's copy of the usage rows follows it.
     */
    private readonly onUsage: (usage: UsageCounters | null) => void,
    /** Told once a batch that wrote events has committed. */
    private readonly onEvents: () => void = () => {},
  ) {
    this.commits = pgGroupCommit(pool, (client, jobs, isolated) =>
      this.openBatch(client, jobs, isolated),
    );
  }

  commitVersion(commit: VersionCommit): Promise<CommitResult> {
    return this.commits.submit({ kind: 'version', commit }) as Promise<CommitResult>;
  }

  /** An atomic batch's commits in one savepoint of a transaction: all of them, or none. */
  async commitVersionsAtomically(commits: readonly VersionCommit[]): Promise<AtomicCommitResult> {
    try {
      const results = (await this.commits.submit({ kind: 'versions', commits })) as CommitResult[];
      return { ok: true, results: results.filter((result): result is CommitDone => result.ok) };
    } catch (error) {
      if (!(error instanceof AtomicRefusal)) throw error;
      return { ok: false, index: error.index, refusal: error.refusal };
    }
  }

  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditReceipt[]> {
    if (drafts.length === 0) return [];
    return this.commits.submit({ kind: 'audit', drafts }) as Promise<AuditReceipt[]>;
  }

  /**
   * Runs a change with its allow entry and its events in a group-commit transaction (holding the
   * audit tree head, which numbers both), the entry and the events after the change in the same
   * savepoint. A change that found nothing to change (`changed` false: an unknown id) appends
   * nothing: its request fails instead. With neither entry nor events, just runs the change on
   * the pool.
   */
  async applyChange<T>(
    run: (client?: pg.PoolClient) => Promise<T>,
    options: PgChangeOptions<T> = {},
  ): Promise<T> {
    const { entry, changed = always, events, afterEntry } = options;
    if (!entry && !events) return run();
    const outcome = (await this.commits.submit({
      kind: 'change',
      run,
      changed: (result) => changed(result as T),
      draft: entry?.draft,
      events: (result) => events?.(result as T) ?? [],
      afterEntry: afterEntry
        ? (client, result, receipt) => afterEntry(client, result as T, receipt)
        : undefined,
    })) as ChangeOutcome;
    if (entry) entry.receipt = outcome.receipt;
    return outcome.result as T;
  }

  /**
   * Runs a change that appends its own entries and events (`log`), in a savepoint of a
   * group-commit transaction holding the audit tree head: serialized with every version commit.
   */
  async applyLogged<T>(run: (client: pg.PoolClient, log: ChangeLog) => Promise<T>): Promise<T> {
    return (await this.commits.submit({ kind: 'logged', run })) as T;
  }

  /** Resolves once every write submitted so far has settled. */
  drain(): Promise<void> {
    return this.commits.drain();
  }

  /**
   * A group-commit transaction: the tree head locked first, so batches of all nodes serialize.
   * Version commits and appends are checked and collected in memory and written together before
   * COMMIT (VersionRows); a batch with a governance change, or one run again after a failure
   * (`isolated`), runs each write's statements in a savepoint of its own.
   */
  private async openBatch(
    client: pg.PoolClient,
    jobs: readonly WriteJob[],
    isolated: boolean,
  ): Promise<Batch<WriteJob, WriteOutcome>> {
    const tree = await TreeAppend.begin(client);
    // A change, an atomic batch's commits and a logged job each need a savepoint of their own.
    if (
      isolated ||
      jobs.some((job) => job.kind === 'change' || job.kind === 'versions' || job.kind === 'logged')
    ) {
      return this.isolatedBatch(client, tree);
    }
    const commits = jobs.flatMap((job) => (job.kind === 'version' ? [job.commit] : []));
    const rows = commits.length > 0 ? await VersionRows.read(client, commits) : VersionRows.none();
    return {
      apply: (job) => {
        if (job.kind === 'audit') {
          const time = new Date().toISOString();
          return Promise.resolve(job.drafts.map((draft) => tree.append(draft, time)));
        }
        if (job.kind === 'version') return Promise.resolve(rows.commit(tree, job.commit));
        return Promise.reject(new Error(`a ${job.kind} job in a batch written as a whole`));
      },
      finish: () => rows.write(client, tree),
      committed: () => {
        const usage = rows.usageAfter();
        if (usage) this.onUsage(usage);
        if (tree.wroteEvents) this.onEvents();
      },
    };
  }

  private isolatedBatch(client: pg.PoolClient, tree: TreeAppend): Batch<WriteJob, WriteOutcome> {
    return {
      apply: async (job) => {
        const mark = tree.mark();
        try {
          if (job.kind === 'audit') {
            const time = new Date().toISOString();
            return job.drafts.map((draft) => tree.append(draft, time));
          }
          if (job.kind === 'logged') {
            const time = new Date().toISOString();
            const log: ChangeLog = {
              append: (draft) => tree.append(draft, time),
              events: (drafts, auditIndex) => tree.appendEvents(drafts, time, auditIndex),
            };
            return (await inSavepoint(client, () => job.run(client, log))) as WriteOutcome;
          }
          if (job.kind === 'change') {
            return await inSavepoint(client, async () => {
              const result = await job.run(client);
              if (!job.changed(result)) return { result, receipt: null };
              const time = new Date().toISOString();
              const receipt = job.draft ? tree.append(job.draft, time) : null;
              if (receipt && job.afterEntry) await job.afterEntry(client, result, receipt);
              tree.appendEvents(job.events(result), time, receipt?.leafIndex ?? null);
              return { result, receipt };
            });
          }
          if (job.kind === 'versions') {
            return await inSavepoint(client, () =>
              this.commitAtomically(client, tree, job.commits),
            );
          }
          return await inSavepoint(client, () => this.commitIsolated(client, tree, job.commit));
        } catch (error) {
          tree.restore(mark);
          throw error;
        }
      },
      finish: () => tree.flush(client),
      // Usage may have changed without a copy of the result at hand: read it again when asked.
      committed: () => {
        this.onUsage(null);
        if (tree.wroteEvents) this.onEvents();
      },
    };
  }

  /** An atomic batch's commits, checked in order; the first refusal throws (the savepoint rolls back). */
  private async commitAtomically(
    client: pg.PoolClient,
    tree: TreeAppend,
    commits: readonly VersionCommit[],
  ): Promise<CommitResult[]> {
    const rows = await VersionRows.read(client, commits);
    const results = commits.map((commit, index) => {
      const result = rows.commit(tree, commit);
      if (!result.ok) throw new AtomicRefusal(index, result);
      return result;
    });
    await rows.writeVersions(client);
    return results;
  }

  /**
   * One version commit of an isolated batch, in its savepoint: checked and written as a whole
   * batch's are (VersionRows), its entry appended to the tree the batch writes at its end.
   */
  private async commitIsolated(
    client: pg.PoolClient,
    tree: TreeAppend,
    commit: VersionCommit,
  ): Promise<CommitResult> {
    const rows = await VersionRows.read(client, [commit]);
    const result = rows.commit(tree, commit);
    if (result.ok) await rows.writeVersions(client);
    return result;
  }
}
