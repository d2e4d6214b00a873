/** Rows of scrubs and drift baselines (SPEC §9), both adapters. */
import type { DriftBaseline } from '../../domain/drift.js';
import type { ScrubChecked, ScrubProblem, ScrubRecord, ScrubStatus } from '../../domain/scrub.js';

export interface ScrubRow {
  id: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  started_by: string;
  checked: string;
  problems: string;
  checkpoint_size: number | null;
  checkpoint_root: string | null;
}

export function toScrub(row: ScrubRow): ScrubRecord {
  return {
    id: row.id,
    status: row.status as ScrubStatus,
    checked: JSON.parse(row.checked) as ScrubChecked,
    problems: JSON.parse(row.problems) as ScrubProblem[],
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    startedBy: row.started_by,
    checkpoint:
      row.checkpoint_size === null || row.checkpoint_root === null
        ? null
        : { size: Number(row.checkpoint_size), rootHash: row.checkpoint_root },
  };
}

/** A scrub's values in the column order both adapters insert (id first). */
export function scrubValues(scrub: ScrubRecord) {
  return [
    scrub.id,
    scrub.status,
    scrub.startedAt,
    scrub.finishedAt,
    scrub.startedBy,
    JSON.stringify(scrub.checked),
    JSON.stringify(scrub.problems),
    scrub.checkpoint?.size ?? null,
    scrub.checkpoint?.rootHash ?? null,
  ] as const;
}

export interface BaselineRow {
  sequence: number;
  document: string;
  signature: string;
}

export function toBaseline(row: BaselineRow): DriftBaseline {
  return {
    ...(JSON.parse(row.document) as Omit<DriftBaseline, 'signature'>),
    signature: row.signature,
  };
}

/** A baseline's values: its sequence, its document (JSON, without the signature), its signature. */
export function baselineValues(baseline: DriftBaseline) {
  const { signature, ...document } = baseline;
  return [baseline.sequence, JSON.stringify(document), signature] as const;
}
