/**
 * The content of a finished run's `execution_record` artifact (SPEC §11): what ran, how it ended,
 * each step's status, times and artifact reference — never outputs, which are in their own
 * artifacts. Pure. A record always fits the class's maximum (SPEC §2.2, 10 KiB): with at most
 * `MAX_BASKET_AGENTS` steps (docs/decisions/0056), error messages are what could make it larger,
 * and they are shortened until it fits (the run itself keeps them whole).
 */
import {
  isFinished,
  RUN_STATUSES,
  type RunError,
  type RunRecord,
  type RunStatus,
  type RunStep,
} from './runs.js';

/** The execution_record class's maximum size (SPEC §2.2). */
export const EXECUTION_RECORD_MAX_BYTES = 10 * 1024;
/** The most agents a basket names (BASKET_SCHEMA): their records fit EXECUTION_RECORD_MAX_BYTES. */
export const MAX_BASKET_AGENTS = 16;
/** The error messages' lengths tried, longest first, until the record fits. */
const MESSAGE_CHARS = [500, 100, 0] as const;

function clipped(error: RunError, chars: number): RunError {
  const code = error.code.slice(0, 100);
  if (error.message.length <= chars) return { code, message: error.message };
  return { code, message: chars === 0 ? '' : `${error.message.slice(0, chars - 1)}…` };
}

function recordOf(run: RunRecord, chars: number): Record<string, unknown> {
  return {
    id: run.id,
    [run.plan.kind]: run.plan.name,
    strategy: run.plan.strategy,
    status: run.status,
    ...(run.error ? { error: clipped(run.error, chars) } : {}),
    requestedBy: run.requestedBy,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    steps: run.steps.map(({ error, ...rest }) =>
      error ? { ...rest, error: clipped(error, chars) } : rest,
    ),
  };
}

export function executionRecord(run: RunRecord): Record<string, unknown> {
  let record: Record<string, unknown> = {};
  for (const chars of MESSAGE_CHARS) {
    record = recordOf(run, chars);
    if (Buffer.byteLength(JSON.stringify(record)) <= EXECUTION_RECORD_MAX_BYTES) break;
  }
  return record;
}

/** How a run ended: what its final state and its execution_record both say. */
export interface RunOutcome {
  readonly status: RunStatus;
  readonly error: RunError | null;
  readonly finishedAt: string;
  readonly steps: readonly RunStep[];
}

/**
 * The outcome an execution_record stored for the run says, over `steps` as the run holds them
 * (artifacts and whole error messages stay the run's); null when the content is not such
 * a record. The record is stored before the run's final state is saved: when the save was lost (a
 * crash, a lost lease), the record stands — it cannot be written again.
 */
export function recordedOutcome(content: unknown, steps: readonly RunStep[]): RunOutcome | null {
  const record = content as Partial<Record<'status' | 'finishedAt' | 'error' | 'steps', unknown>>;
  if (typeof record !== 'object' || record === null) return null;
  const { status, finishedAt, error } = record;
  const recorded = record.steps as Partial<RunStep>[] | undefined;
  if (!RUN_STATUSES.includes(status as RunStatus) || !isFinished(status as RunStatus)) return null;
  if (typeof finishedAt !== 'string' || !Array.isArray(recorded)) return null;
  if (recorded.length !== steps.length) return null;
  if (recorded.some((step, i) => step?.agent !== steps[i]?.agent)) return null;
  return {
    status: status as RunStatus,
    error: (error as RunError | undefined) ?? null,
    finishedAt,
    steps: steps.map((step, i) => {
      const { status: stepStatus, startedAt, finishedAt: ended, error: stepError } = recorded[i]!;
      const settled: RunStep = {
        ...step,
        status: RUN_STATUSES.includes(stepStatus as RunStatus)
          ? (stepStatus as RunStatus)
          : step.status,
        startedAt: startedAt ?? step.startedAt,
        finishedAt: ended ?? step.finishedAt,
      };
      const kept = step.error ?? stepError;
      return kept ? { ...settled, error: kept } : settled;
    }),
  };
}
