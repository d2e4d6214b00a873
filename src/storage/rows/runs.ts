/** Rows of Core's runs (SPEC §11) as both stores hold them: indexed columns and a JSON body. */
import type { RunRecord, RunStatus } from '../../domain/runs.js';
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

/** What the columns do not hold: the plan, input, output, error, steps and record. */
type RunBody = Pick<RunRecord, 'plan' | 'input' | 'output' | 'error' | 'steps' | 'record'>;

export const RUN_COLUMNS =
  'id, status, kind, name, product, requested_by, created_at, started_at, finished_at, ' +
  'deadline, cancel_requested, body';

export function runValues(run: RunRecord) {
  const body: RunBody = {
    plan: run.plan,
    input: run.input,
    output: run.output,
    error: run.error,
    steps: run.steps,
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
  const body = JSON.parse(row.body) as RunBody;
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
    ...body,
  };
}
