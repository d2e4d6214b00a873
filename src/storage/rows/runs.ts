/**
 * Rows of Core's runs (SPEC §11) as both stores hold them: indexed columns and a JSON body. A row
 * holds no output: steps refer to their `agent_output` artifacts (docs/decisions/0057), and
 * outputs left in rows written before are dropped when read.
 */
import type { RunRecord, RunStatus, RunStep } from '../../domain/runs.js';
import { flag } from './flag.js';

export interface RunRow {
  id: string;
  status: string;
  kind: string;
  name: string;
  product: string | null;
  requested_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  deadline: number | string | null;
  cancel_requested: number | boolean;
  body: string;
}

/** What the columns do not hold: the plan, input, error, steps and record. */
type RunBody = Pick<RunRecord, 'plan' | 'input' | 'error' | 'steps' | 'record'>;

/** The step without an output (one a row written before 0057 holds, or one given by mistake). */
function withoutOutput(step: RunStep): RunStep {
  const { output: _output, ...kept } = step as RunStep & { output?: unknown };
  return kept;
}

export const RUN_COLUMNS =
  'id, status, kind, name, product, requested_by, created_at, started_at, finished_at, ' +
  'deadline, cancel_requested, body';

export function runValues(run: RunRecord) {
  const body: RunBody = {
    plan: run.plan,
    input: run.input,
    error: run.error,
    steps: run.steps.map(withoutOutput),
    record: run.record,
  };
  return [
    run.id,
    run.status,
    run.plan.kind,
    run.plan.name,
    run.product,
    run.requestedBy,
    run.createdAt,
    run.startedAt,
    run.finishedAt,
    run.deadline,
    run.cancelRequested ? 1 : 0,
    JSON.stringify(body),
  ] as const;
}

export function toRun(row: RunRow): RunRecord {
  const { plan, input, error, steps, record } = JSON.parse(row.body) as RunBody;
  return {
    id: row.id,
    status: row.status as RunStatus,
    product: row.product,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    deadline: row.deadline === null ? null : Number(row.deadline),
    cancelRequested: flag(row.cancel_requested),
    plan,
    input,
    error,
    steps: steps.map(withoutOutput),
    record,
  };
}
