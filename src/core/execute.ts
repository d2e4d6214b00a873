/**
 * The execution of one run by the node holding its lease (SPEC §11): started, then each step —
 * in order (sequential: each output the next input) or all at once (parallel: each gets the run's
 * input) — persisted as it starts and as it ends, its output stored as an `agent_output` artifact;
 * then the run's `execution_record` and its final status. Every state is saved before the next
 * step begins, so a run taken over after a crash continues from its first unfinished step (a step
 * found `running` is run again: built-ins are deterministic, http agents get the same idempotency
 * key; one found failed, timed out or cancelled ends the run so, and a record found stored is the
 * run's outcome). The node stopping or losing the lease stops the execution without saving
 * anything more.
 */
import type { EventDraft } from '../domain/events.js';
import { executionRecord, recordedOutcome, type RunOutcome } from '../domain/run-record.js';
import {
  finishEvent,
  isFinished,
  recordArtifactName,
  runEvent,
  stepArtifactName,
  type ArtifactRef,
  type RunError,
  type RunRecord,
  type RunStatus,
  type RunStep,
} from '../domain/runs.js';
import type { Resolver } from '../services/egress.js';
import type { MetadataStore } from '../storage/ports.js';
import { AgentFailure } from './agents/types.js';
import type { Catalog } from './catalog.js';
import { invokeAgent } from './invoke.js';
import type { CoreStore } from './stored.js';

/** A step's timeout this close to the run's deadline is the deadline's. */
const DEADLINE_SLACK_MS = 50;

export interface ExecutionDeps {
  readonly metadata: MetadataStore;
  readonly catalog: Catalog;
  /** Reads of the run's own artifacts (a record stored before a crash). */
  readonly contents: CoreStore;
  /** Stores a run's artifact as the Bucket's `core` principal (through the gate); its reference. */
  readonly store: (
    cls: 'agent_output' | 'execution_record',
    name: string,
    content: unknown,
  ) => Promise<ArtifactRef>;
  readonly now: () => number;
  readonly egressAllow: () => readonly string[];
  readonly endpoints: Readonly<Record<string, string>>;
  readonly resolver?: Resolver | undefined;
  /** Whether the Bucket's mode lets runs go on (`normal`); otherwise a run pauses. */
  readonly running: () => boolean;
  /**
   * Told of each succeeded step's overhead in ms (the bench): its two saves, its artifact and
   * event, timed with hrtime — not the agent's own time.
   */
  readonly observeStep?: ((ms: number) => void) | undefined;
}

/** The execution stopped without an outcome to save (the node stops, or lost the lease). */
export class ExecutionStopped extends Error {}

/**
 * Reasons that stop an execution without saving anything more: the node stops, it lost the
 * lease, or the mode refuses writes (`paused`: the run stays `running`, its lease runs out, and a
 * node takes it up again once the Bucket is back to `normal`).
 */
const STOP_REASONS = new Set(['shutdown', 'lease_lost', 'paused']);
/** Why the other steps of a parallel run stop when one fails (invoke.ts: `cancelled`). */
export const SIBLING_FAILED = 'sibling_failed';
/** The codes of a write the Bucket's mode refused (SPEC §9). */
const MODE_REFUSALS = new Set(['bucket_read_only', 'bucket_halted']);

export class RunExecution {
  private run: RunRecord;
  private saving: Promise<unknown> = Promise.resolve();
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(
    run: RunRecord,
    private readonly owner: string,
    private readonly abort: AbortController,
    private readonly deps: ExecutionDeps,
  ) {
    this.run = run;
  }

  private iso(): string {
    return new Date(this.deps.now()).toISOString();
  }

  /** Saves the state `change` makes of the latest one, one save at a time (parallel steps). */
  private update(
    change: (run: RunRecord) => RunRecord,
    events: (run: RunRecord) => EventDraft[] = () => [],
  ) {
    const next = this.saving.then(async () => {
      if (STOP_REASONS.has(String(this.abort.signal.reason))) throw new ExecutionStopped();
      const changed = change(this.run);
      if (!(await this.deps.metadata.saveRun(changed, this.owner, events(changed)))) {
        this.abort.abort('lease_lost');
        throw new ExecutionStopped();
      }
      this.run = changed;
      return changed;
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private setStep(index: number, step: Partial<RunStep>) {
    return (run: RunRecord): RunRecord => ({
      ...run,
      steps: run.steps.map((current, i) => (i === index ? { ...current, ...step } : current)),
    });
  }

  async execute(): Promise<RunRecord> {
    try {
      if (this.run.status === 'queued') {
        if (this.run.cancelRequested) return await this.finish('cancelled', null);
        const startedAt = this.deps.now();
        await this.update(
          (run) => ({
            ...run,
            status: 'running',
            startedAt: new Date(startedAt).toISOString(),
            deadline: startedAt + run.plan.timeoutMs,
          }),
          (run) => [runEvent(run, 'started')],
        );
      }
      const deadline = this.run.deadline ?? this.deps.now();
      if (this.deps.now() >= deadline) {
        return await this.finish('timed_out', {
          code: 'run_timeout',
          message: "the run's overall time limit passed",
        });
      }
      if (this.run.cancelRequested) return await this.finish('cancelled', null);
      this.deadlineTimer = setTimeout(
        () => this.abort.abort('timed_out'),
        deadline - this.deps.now(),
      );
      return await (this.run.plan.strategy === 'parallel' ? this.parallel() : this.sequential());
    } finally {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    }
  }

  private async sequential(): Promise<RunRecord> {
    let input: unknown = this.run.input;
    // A step that succeeded before this execution: its output, the next input, is in its artifact.
    let readFrom: number | null = null;
    for (let index = 0; index < this.run.steps.length; index++) {
      const step = this.run.steps[index] as RunStep;
      if (step.status === 'succeeded') {
        readFrom = index;
        continue;
      }
      // Ended before a crash or a lost lease (its outcome saved, the run's not): the run ends so.
      if (isFinished(step.status)) return this.finishAfterStep(index, step.status);
      if (readFrom !== null) {
        const read = await this.deps.contents.output(
          (this.run.steps[readFrom] as RunStep).artifact,
        );
        if (!('output' in read)) return this.finishUnreadable(readFrom, read.unavailable);
        input = read.output;
        readFrom = null;
      }
      const outcome = await this.step(index, input);
      if (!outcome.ok) return this.finishAfterStep(index, outcome.status);
      input = outcome.output;
    }
    return this.finish('succeeded', null);
  }

  private async parallel(): Promise<RunRecord> {
    // The first step to fail fails the run: the others still running are cut short (cancelled),
    // instead of the run waiting for their answers to throw them away.
    const ended = firstUnsuccessful(this.run.steps);
    if (ended !== null)
      return this.finishAfterStep(ended, (this.run.steps[ended] as RunStep).status);
    const siblings = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, siblings.signal]);
    let failed: { index: number; status: RunStatus } | null = null;
    await Promise.all(
      this.run.steps.map((step, index) =>
        step.status === 'succeeded'
          ? null
          : this.step(index, this.run.input, signal).then((outcome) => {
              if (!outcome.ok && !failed) {
                failed = { index, status: outcome.status };
                siblings.abort(SIBLING_FAILED);
              }
            }),
      ),
    );
    const first = failed as { index: number; status: RunStatus } | null;
    if (first) return this.finishAfterStep(first.index, first.status);
    return this.finish('succeeded', null);
  }

  /** A resumed run whose next input, a step's stored output, cannot be read any more. */
  private finishUnreadable(index: number, why: string): Promise<RunRecord> {
    const step = this.run.steps[index] as RunStep;
    return this.finish('failed', {
      code: 'output_unavailable',
      message: `step ${index + 1} (${step.agent}): its output, the next step's input, is ${why}`,
    });
  }

  private finishAfterStep(index: number, status: RunStatus): Promise<RunRecord> {
    const step = this.run.steps[index] as RunStep;
    const error = step.error ?? { code: 'step_failed', message: 'the step failed' };
    return this.finish(status, {
      code: error.code,
      message: `step ${index + 1} (${step.agent}): ${error.message}`,
    });
  }

  private async step(
    index: number,
    input: unknown,
    signal: AbortSignal = this.abort.signal,
  ): Promise<{ ok: true; output: unknown } | { ok: false; status: RunStatus }> {
    const agentName = (this.run.steps[index] as RunStep).agent;
    if (!this.deps.running()) {
      this.abort.abort('paused');
      throw new ExecutionStopped();
    }
    const began = process.hrtime.bigint();
    await this.update(
      this.setStep(index, { status: 'running', startedAt: this.iso(), finishedAt: null }),
    );
    try {
      const resolved = await this.deps.catalog.agent(agentName);
      if (!resolved) throw new AgentFailure('agent_not_found', `no agent "${agentName}"`);
      const remaining = (this.run.deadline ?? Infinity) - this.deps.now();
      const calling = process.hrtime.bigint();
      const output = await invokeAgent(resolved, input, {
        runId: this.run.id,
        step: index + 1,
        today: todayOf(input, this.deps.now()),
        timeoutMs: Math.min(this.run.plan.stepTimeoutMs, Math.max(1, remaining)),
        signal,
        egressAllow: this.deps.egressAllow(),
        endpoints: this.deps.endpoints,
        resolver: this.deps.resolver,
      });
      const agentNs = process.hrtime.bigint() - calling;
      const artifact = await this.storeOutput(index, agentName, output);
      await this.update(
        this.setStep(index, { status: 'succeeded', finishedAt: this.iso(), artifact }),
        (run) => [runEvent(run, 'step.succeeded', index)],
      );
      this.deps.observeStep?.(Number(process.hrtime.bigint() - began - agentNs) / 1e6);
      return { ok: true, output };
    } catch (error) {
      if (error instanceof ExecutionStopped || STOP_REASONS.has(String(this.abort.signal.reason))) {
        throw new ExecutionStopped();
      }
      let failure = error as { code?: string; message?: string };
      // A step cut by its own timer when the run's deadline was the nearer limit: the two timers
      // race at the same instant, and it is the run's overall limit that passed.
      const deadline = this.run.deadline ?? Infinity;
      if (failure.code === 'step_timeout' && this.deps.now() >= deadline - DEADLINE_SLACK_MS) {
        failure = { code: 'run_timeout', message: "the run's overall time limit passed" };
      }
      if (MODE_REFUSALS.has(failure.code ?? '')) {
        this.abort.abort('paused');
        throw new ExecutionStopped();
      }
      const stepError: RunError = {
        code: failure.code ?? 'agent_error',
        message: failure.message ?? String(error),
      };
      const status = stepStatus(stepError.code);
      await this.update(
        this.setStep(index, { status, finishedAt: this.iso(), error: stepError }),
        (run) => [runEvent(run, 'step.failed', index)],
      );
      return { ok: false, status };
    }
  }

  /** The step's output artifact; one stored before a crash is the step's, not written again. */
  private async storeOutput(index: number, agent: string, output: unknown): Promise<ArtifactRef> {
    const name = stepArtifactName(this.run.id, index, agent);
    const head = await this.deps.metadata.getHead({ product: 'core', class: 'agent_output', name });
    if (head)
      return { product: 'core', class: 'agent_output', name, version: head.version, audit: null };
    return this.deps.store('agent_output', name, output);
  }

  private async finish(status: RunStatus, error: RunError | null): Promise<RunRecord> {
    const finishedAt = this.iso();
    // Steps never reached or cut short take the run's outcome (cancelled, timed_out).
    const settle = (step: RunStep): RunStep =>
      step.status === 'queued' || step.status === 'running'
        ? {
            ...step,
            status: status === 'succeeded' ? 'failed' : status === 'failed' ? 'cancelled' : status,
            finishedAt: step.startedAt ? finishedAt : null,
          }
        : step;
    let outcome: RunOutcome = { status, error, finishedAt, steps: this.run.steps.map(settle) };
    let record: ArtifactRef | null;
    const stored = await this.storedRecord();
    if (stored) {
      // Stored before a crash or a lost lease, then the final state was not saved: the record
      // stands (execution_record has no UPDATE; writing it again would be refused as T3).
      const recorded = recordedOutcome(stored.content, this.run.steps);
      // The same outcome keeps its whole error message (the record's may be shortened).
      if (recorded) outcome = recorded.status === status ? { ...recorded, error } : recorded;
      record = stored.ref;
    } else {
      // Every finished run has its record, a run cancelled before it started included.
      const summary = executionRecord({ ...this.run, ...outcome });
      record = await this.deps
        .store('execution_record', recordArtifactName(this.run.id), summary)
        .catch((error: { code?: string }): ArtifactRef | null => {
          if (!MODE_REFUSALS.has(error.code ?? '')) return null;
          this.abort.abort('paused');
          throw new ExecutionStopped();
        });
    }
    return this.update(
      (run) => ({ ...run, ...outcome, record }),
      (run) => [finishEvent(run)],
    );
  }

  /** The run's execution_record if one is stored already: its reference and its content. */
  private async storedRecord(): Promise<{ ref: ArtifactRef; content: unknown } | null> {
    const name = recordArtifactName(this.run.id);
    const head = await this.deps.contents.head('execution_record', name);
    if (!head) return null;
    const ref = { product: 'core', class: 'execution_record', name, version: head.version };
    return { ref: { ...ref, audit: null }, content: await this.deps.contents.json(head) };
  }
}

/**
 * The step of a parallel run found ended without success when the run is taken up again (a crash
 * or a lost lease after its failure was saved): the one that failed first — failed or timed out
 * before any cut short as `cancelled` — or null when every ended step succeeded.
 */
function firstUnsuccessful(steps: readonly RunStep[]): number | null {
  const rank = (step: RunStep) => `${step.status === 'cancelled' ? 1 : 0}${step.finishedAt ?? ''}`;
  let found: number | null = null;
  steps.forEach((step, index) => {
    if (step.status === 'succeeded' || !isFinished(step.status)) return;
    if (found === null || rank(step) < rank(steps[found] as RunStep)) found = index;
  });
  return found;
}

function stepStatus(code: string): RunStatus {
  if (code === 'cancelled') return 'cancelled';
  if (code === 'step_timeout' || code === 'run_timeout') return 'timed_out';
  return 'failed';
}

/** The step's `today`: its input's own (SPEC §11), else the current date by the Bucket's clock. */
function todayOf(input: unknown, now: number): string {
  const given = (input as { today?: unknown } | null)?.today;
  if (typeof given === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(given)) return given;
  return new Date(now).toISOString().slice(0, 10);
}
