/**
 * The integrity scrub (SPEC §9): on demand (`begin`) and every 24 h by default, one node at a time
 * (a lease), throttled to a fifth of the machine (services/throttle.ts). It re-hashes every content
 * through the read path, verifies the audit log from the last scrubbed checkpoint to a new one,
 * checks every version against its entry (scrub-checks.ts) and runs the drift checks. A scrub that
 * finds anything fails, opens an incident (`audit` for the log, `integrity` for contents and
 * versions; drift opens its own) and so switches the Bucket to read_only. Its record is persisted
 * as it goes, so any node answers for it; one a crash interrupted is failed at the next start.
 */
import { randomBytes } from 'node:crypto';
import type { NoteVerifier } from '../audit/note.js';
import type { VerifyProblem } from '../audit/verify.js';
import { BucketError } from '../domain/errors.js';
import { SYSTEM_ID } from '../domain/modes.js';
import {
  ABANDONED,
  NO_CHECKS,
  type ScrubChecked,
  type ScrubCheckpoint,
  type ScrubProblem,
  type ScrubRecord,
} from '../domain/scrub.js';
import type { MetadataStore } from '../storage/ports.js';
import type { IncidentService } from './incidents.js';
import { checkLog, checkVersions, type ScrubSource } from './scrub-checks.js';
import { Throttle, type ThrottleOptions } from './throttle.js';

export const SCRUB_INTERVAL_MS = 24 * 60 * 60 * 1000;
const LEASE = 'bucket.scrub';
const SAVE_EVERY_MS = 1000;
/** Problem codes of the audit log itself (an `audit` incident); the others are `integrity`. */
const LOG_CODES: ReadonlySet<string> = new Set([
  'entry_missing',
  'entry_out_of_order',
  'entry_beyond_log',
  'entry_malformed',
  'entry_not_canonical',
  'entry_index_mismatch',
  'leaf_hash_mismatch',
  'entry_column_mismatch',
  'frontier_invalid',
  'checkpoint_signature',
  'checkpoint_malformed',
  'checkpoint_origin',
  'checkpoint_size',
  'checkpoint_root',
  'checkpoint_order',
  'truncated',
]);

export interface ScrubOptions {
  readonly now: () => number;
  /** Between scheduled scrubs (BUCKET_SCRUB_HOURS); 24 h by default. */
  readonly intervalMs?: number | undefined;
  readonly throttle?: ThrottleOptions;
  readonly verifier: NoteVerifier;
  readonly openContent: ScrubSource['openContent'];
  /** A signed checkpoint of the log as it stands (issued now unless one is stored for its size). */
  readonly checkpoint: () => Promise<ScrubCheckpoint>;
  /** The drift checks (which open their own incident): the components found drifted. */
  readonly drift: () => Promise<readonly string[]>;
}

export class ScrubService {
  private timer: NodeJS.Timeout | null = null;
  private current: { record: ScrubRecord; done: Promise<void> } | null = null;
  private readonly aborter = new AbortController();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly incidents: IncidentService,
    private readonly options: ScrubOptions,
  ) {}

  /** Fails the scrubs a crash left `running` — when no node holds the lease, none is running. */
  async init(): Promise<void> {
    await this.metadata.exclusively(LEASE, () =>
      this.metadata.abandonScrubs(this.iso(), ABANDONED),
    );
  }

  /** Looks every hour (or interval, when shorter) for a scrub due; `onScrub` hears of outcomes. */
  start(onScrub?: (record: ScrubRecord | Error) => void): void {
    const every = this.intervalMs();
    this.timer = setInterval(
      () => {
        this.begin(SYSTEM_ID, { scheduled: true }).then(
          (record) => {
            if (record) void this.current?.done.then(() => onScrub?.(record));
          },
          (error: unknown) => onScrub?.(error as Error),
        );
      },
      Math.min(every, 60 * 60 * 1000),
    );
    this.timer.unref();
  }

  /** Whether scheduled scrubs are armed (certification F5). */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.aborter.abort();
    await this.current?.done;
  }

  /**
   * Starts a scrub in the background and answers its record (`running`) once stored. A scrub
   * running on any node answers 409 `scrub_running`; a scheduled one is skipped (null) while the
   * last scrub is younger than the interval or another is running.
   */
  begin(by: string, options: { scheduled?: boolean } = {}): Promise<ScrubRecord | null> {
    return new Promise((resolve, reject) => {
      const leased = this.metadata.exclusively(LEASE, async () => {
        if (options.scheduled) {
          const latest = await this.metadata.latestScrub();
          if (latest && this.options.now() - Date.parse(latest.startedAt) < this.intervalMs()) {
            resolve(null);
            return;
          }
        }
        const record: ScrubRecord = {
          id: `scr_${randomBytes(8).toString('hex')}`,
          status: 'running',
          checked: NO_CHECKS,
          problems: [],
          startedAt: this.iso(),
          finishedAt: null,
          startedBy: by,
          checkpoint: null,
        };
        await this.metadata.insertScrub(record);
        let finished!: () => void;
        this.current = { record, done: new Promise((end) => (finished = end)) };
        resolve(record);
        // The outcome is written once the lease is released: whoever reads it can start the next.
        const conclude = await this.run(record);
        return async () => {
          try {
            await conclude();
          } finally {
            finished();
            this.current = null;
          }
        };
      });
      leased.then(async (conclude) => {
        // A scheduled look that finds a scrub running (on any node) has nothing to start.
        if (conclude === null && options.scheduled) resolve(null);
        else if (conclude === null) {
          reject(new BucketError('scrub_running', 'a scrub is running; follow it or retry later'));
        } else await conclude?.();
      }, reject);
    });
  }

  /** A scrub by id: this node's running one as it stands, else as stored. 404 when unknown. */
  async get(id: string): Promise<ScrubRecord> {
    if (this.current?.record.id === id) return this.current.record;
    const found = await this.metadata.getScrub(id);
    if (!found) throw new BucketError('scrub_not_found', `no scrub ${id}`);
    return found;
  }

  /**
   * The last scrub that passed, with the checkpoint the log verified to (certification G2), or
   * null when none has.
   */
  lastPassed(): Promise<ScrubRecord | null> {
    return this.metadata.latestScrub('passed');
  }

  /** The newest scrub, whatever its status. */
  latest(): Promise<ScrubRecord | null> {
    return this.metadata.latestScrub();
  }

  /** Runs the checks; answers what writes the outcome (the incidents, then the record). */
  private async run(started: ScrubRecord): Promise<() => Promise<void>> {
    let record = started;
    let saved = Date.now();
    let saving: Promise<void> = Promise.resolve();
    const update = (next: ScrubRecord) => {
      record = next;
      if (this.current) this.current.record = next;
    };
    const progress = (counts: Partial<ScrubChecked>) => {
      update({ ...record, checked: { ...record.checked, ...counts } });
      if (Date.now() - saved < SAVE_EVERY_MS) return;
      saved = Date.now();
      const snapshot = record;
      saving = saving.then(() => this.metadata.saveScrub(snapshot)).catch(() => undefined);
    };
    const source: ScrubSource = {
      metadata: this.metadata,
      verifier: this.options.verifier,
      throttle: new Throttle({ ...this.options.throttle, signal: this.aborter.signal }),
      openContent: this.options.openContent,
      progress,
    };
    let problems: ScrubProblem[];
    let checkpoint: ScrubCheckpoint | null = null;
    try {
      const last = (await this.lastPassed())?.checkpoint ?? null;
      const target = await this.options.checkpoint();
      const log = await checkLog(source, last, target);
      let versions = await checkVersions(source, target.size);
      // A version changed while it was read (a purge, a retention change) is a finding that a
      // second look, with the entries written since, no longer makes; tampering stays.
      if (versions.problems.length > 0) {
        versions = await checkVersions(source, await this.metadata.auditSize());
      }
      const drifted = await this.options.drift();
      problems = [...log.problems, ...versions.problems];
      if (drifted.length > 0) {
        problems.push({ code: 'drift', message: `drifted: ${drifted.join(', ')}` });
      }
      update({
        ...record,
        checked: { contents: versions.contents, entries: log.entries, versions: versions.versions },
      });
      checkpoint = problems.length === 0 ? target : null;
    } catch (error) {
      problems = [{ code: 'scrub_error', message: (error as Error).message }];
    }
    // Stopped midway, whatever the checks made of the interruption: not a finding.
    if (this.aborter.signal.aborted) {
      problems = [ABANDONED];
      checkpoint = null;
    }
    await saving;
    const found = problems;
    const verified = checkpoint;
    return async () => {
      // The incidents first: a scrub read as failed has already switched the Bucket to read_only.
      await this.openIncidents(record, found);
      const finished: ScrubRecord = {
        ...record,
        status: found.length === 0 ? 'passed' : 'failed',
        problems: found,
        finishedAt: this.iso(),
        checkpoint: verified,
      };
      await this.metadata.saveScrub(finished).catch(() => undefined);
      update(finished);
    };
  }

  /** The incidents of a failed scrub: `audit` for the log, `integrity` for contents and versions. */
  private async openIncidents(record: ScrubRecord, problems: readonly ScrubProblem[]) {
    const found = (codes: (code: string) => boolean) => problems.filter((p) => codes(p.code));
    const byKind = {
      audit: found((code) => LOG_CODES.has(code)),
      integrity: found((code) => !LOG_CODES.has(code) && !NOT_FINDINGS.has(code)),
    };
    for (const [kind, list] of Object.entries(byKind) as [
      'audit' | 'integrity',
      VerifyProblem[],
    ][]) {
      if (list.length === 0) continue;
      await this.incidents
        .open(kind, {
          scrubId: record.id,
          problems: list.length,
          codes: [...new Set(list.map((p) => p.code))],
          first: list.slice(0, 5),
        })
        .catch(() => undefined);
    }
  }

  private intervalMs(): number {
    return this.options.intervalMs ?? SCRUB_INTERVAL_MS;
  }

  private iso(): string {
    return new Date(this.options.now()).toISOString();
  }
}

/**
 * Outcomes that are not findings about the data: a scrub stopped or failing on its own (the store
 * down), and drift, whose check opened its own incident.
 */
const NOT_FINDINGS: ReadonlySet<string> = new Set(['scrub_abandoned', 'scrub_error', 'drift']);
