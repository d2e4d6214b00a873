/**
 * Runs of Core (SPEC §11): a basket's or one agent's execution, its steps and statuses, and the
 * events of its transitions (SPEC §10 `bucket.run.*`). Pure: the engine (src/core/engine.ts)
 * moves a run from state to state, the stores persist each state with its events.
 */
import type { AuditReceipt } from '../audit/entry.js';
import type { EventDraft } from './events.js';

export const RUN_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run in one of these states is finished: nothing changes it any more. */
export function isFinished(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

export interface RunError {
  readonly code: string;
  readonly message: string;
}

/** Where a step's output (`agent_output`) or the run's record (`execution_record`) is stored. */
export interface ArtifactRef {
  readonly product: string;
  readonly class: string;
  readonly name: string;
  readonly version: number;
  readonly audit: AuditReceipt | null;
}

export interface RunStep {
  readonly agent: string;
  readonly status: RunStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error?: RunError;
  /** A succeeded step's output, stored as an `agent_output` artifact (never in the run's row). */
  readonly artifact?: ArtifactRef;
}

/** What a run executes, fixed when it is queued (a basket changed later changes no queued run). */
export interface RunPlan {
  readonly kind: 'basket' | 'agent';
  readonly name: string;
  readonly strategy: 'sequential' | 'parallel';
  readonly agents: readonly string[];
  readonly stepTimeoutMs: number;
  readonly timeoutMs: number;
}

export interface RunRecord {
  readonly id: string;
  readonly plan: RunPlan;
  readonly status: RunStatus;
  readonly input: unknown;
  readonly error: RunError | null;
  readonly steps: readonly RunStep[];
  /** The requesting key's product (a product key's runs are its own), or null. */
  readonly product: string | null;
  readonly requestedBy: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** When the run times out (ms since the epoch), fixed when it starts: it survives restarts. */
  readonly deadline: number | null;
  readonly cancelRequested: boolean;
  /** The run's `execution_record`, once finished. */
  readonly record: ArtifactRef | null;
}

export type RunVerb =
  | 'queued'
  | 'started'
  | 'step.succeeded'
  | 'step.failed'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'timed_out';

/** The event of a transition (SPEC §10): metadata only, never the input or an output. */
export function runEvent(run: RunRecord, verb: RunVerb, step?: number): EventDraft {
  const stepRecord = step === undefined ? undefined : run.steps[step];
  return {
    type: `bucket.run.${verb}`,
    subject: run.id,
    product: run.product ?? 'core',
    data: {
      runId: run.id,
      [run.plan.kind]: run.plan.name,
      status: run.status,
      ...(stepRecord ? { step, agent: stepRecord.agent, stepStatus: stepRecord.status } : {}),
      ...(stepRecord?.error ? { error: stepRecord.error } : {}),
      ...(step === undefined && run.error ? { error: run.error } : {}),
    },
  };
}

/** The event of the run's final status. */
export function finishEvent(run: RunRecord): EventDraft {
  return runEvent(run, run.status as RunVerb);
}

/**
 * A step's output as a run's view shows it, read through its `agent_output` artifact — or why it
 * cannot be: the retention sweep purged it, an erasure destroyed it, it is missing or damaged.
 */
export type StepOutput =
  | { readonly output: unknown }
  | { readonly unavailable: 'purged' | 'erased' | 'missing' | 'unreadable' };

/**
 * The API's view of a run (SPEC §11 pinned fields). With the steps' outputs (`GET /v1/runs/{id}`)
 * each succeeded step shows its `output` (or `outputUnavailable` and why), and a succeeded run its
 * own `output` (the last step's, or each step's by agent) when every one it is made of is there;
 * without them (a listing, a run just queued) it is the run's summary.
 */
export function runView(run: RunRecord, outputs?: readonly (StepOutput | null)[]) {
  const steps = run.steps.map((step, index) => {
    const read = outputs?.[index];
    if (!read) return step;
    return 'output' in read
      ? { ...step, output: read.output }
      : { ...step, outputUnavailable: read.unavailable };
  });
  const output = outputs && run.status === 'succeeded' ? runOutput(run.plan, outputs) : null;
  return {
    id: run.id,
    [run.plan.kind]: run.plan.name,
    status: run.status,
    strategy: run.plan.strategy,
    input: run.input,
    ...(output ?? {}),
    ...(run.error ? { error: run.error } : {}),
    steps,
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    deadline: run.deadline === null ? null : new Date(run.deadline).toISOString(),
    cancelRequested: run.cancelRequested,
    record: run.record,
  };
}

/**
 * A succeeded run's output from its steps' (SPEC §11): the last one's (sequential), or each one's
 * by agent (parallel); `outputUnavailable` when one of them cannot be read.
 */
function runOutput(
  plan: RunPlan,
  outputs: readonly (StepOutput | null)[],
): { output: unknown } | { outputUnavailable: string } {
  const needed = plan.strategy === 'sequential' ? outputs.slice(-1) : outputs;
  const missing = needed.find((read) => !read || !('output' in read));
  if (missing !== undefined) {
    return {
      outputUnavailable: missing && 'unavailable' in missing ? missing.unavailable : 'missing',
    };
  }
  const read = needed as readonly { output: unknown }[];
  if (plan.strategy === 'sequential') return { output: read[0]?.output };
  const output: Record<string, unknown> = {};
  plan.agents.forEach((agent, index) => {
    output[agent] = read[index]?.output;
  });
  return { output };
}

/** A page of runs, the newest first (`GET /v1/runs`). */
export interface RunFilter {
  readonly kind?: 'basket' | 'agent';
  readonly name?: string;
  readonly status?: RunStatus;
  /** Only this product's runs (a product key's view). */
  readonly product?: string;
  /** Runs created before this position (the cursor), the newest first. */
  readonly before?: { readonly createdAt: string; readonly id: string };
  readonly limit: number;
}

/** The item names of a run's artifacts (SPEC §11, pinned). */
export function stepArtifactName(runId: string, index: number, agent: string): string {
  return `runs/${runId}/${index + 1}-${agent}.json`;
}

export function recordArtifactName(runId: string): string {
  return `runs/${runId}.json`;
}
