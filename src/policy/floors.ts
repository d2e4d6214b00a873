/**
 * The floors (SPEC §9): what no policy version, exception or owner may relax, measured against the
 * shipped default policy (config/default-policy.yaml). One home for the policy PUT today, and for
 * exceptions and the certification's R1 later: `floorBreaches(document)` lists every breach.
 * (The ai_agent lock and the audit log's append-only rule are code, not policy: no floor here.)
 */
import { addDuration, isDuration } from '../domain/artifact.js';
import { ruleOf, type PolicyDocument, type RetentionRule } from '../domain/policy.js';
import { loadDefaultPolicy } from './load.js';

export type FloorId =
  | 'rejected_classes'
  | 'class_retention'
  | 'model_checkpoint_write_once'
  | 'workflow_engine_read_only';

export interface FloorBreach {
  readonly floor: FloorId;
  /** JSON Pointer (RFC 6901) of the value that breaks it. */
  readonly path: string;
  readonly message: string;
}

let shipped: PolicyDocument | null = null;

/** The shipped default policy, read once: the floors' measure. */
export function shippedPolicy(): PolicyDocument {
  shipped ??= loadDefaultPolicy();
  return shipped;
}

/** Every floor `document` breaks against `floors` (the shipped default unless given). */
export function floorBreaches(
  document: PolicyDocument,
  floors: PolicyDocument = shippedPolicy(),
): FloorBreach[] {
  return [
    ...rejectedClassBreaches(document, floors),
    ...retentionBreaches(document, floors),
    ...writeOnceBreaches(document),
    ...readOnlyBreaches(document),
  ];
}

function rejectedClassBreaches(document: PolicyDocument, floors: PolicyDocument): FloorBreach[] {
  const rejected = new Set(document.rejectedClasses);
  return floors.rejectedClasses
    .filter((classId) => !rejected.has(classId))
    .map((classId) => ({
      floor: 'rejected_classes',
      path: '/rejectedClasses',
      message: `"${classId}" must stay rejected everywhere`,
    }));
}

const MODE_RANK: Readonly<Record<RetentionRule['mode'], number>> = {
  none: 0,
  governance: 1,
  compliance: 2,
};

/** A class's retention is never shortened, nor moved off `compliance` (mode and period). */
function retentionBreaches(document: PolicyDocument, floors: PolicyDocument): FloorBreach[] {
  const breaches: FloorBreach[] = [];
  for (const [classId, floor] of Object.entries(floors.classes)) {
    const rule = ruleOf(document.classes, classId);
    if (!rule) continue;
    const path = `/classes/${classId}/retention`;
    const { mode, period } = rule.retention;
    if (MODE_RANK[mode] < MODE_RANK[floor.retention.mode]) {
      breaches.push({
        floor: 'class_retention',
        path: `${path}/mode`,
        message: `"${classId}" keeps at least ${floor.retention.mode} retention, not ${mode}`,
      });
    }
    if (shorter(period, floor.retention.period)) {
      breaches.push({
        floor: 'class_retention',
        path: `${path}/period`,
        message:
          `"${classId}" is retained at least ${floor.retention.period ?? 'permanently'}, ` +
          `not ${period ?? 'permanently'}`,
      });
    }
  }
  return breaches;
}

/** Starts at which a period is measured: month ends and leap days make P12M, P1Y and P365D differ. */
const MEASURED_FROM = [
  '2027-01-31T00:00:00.000Z',
  '2027-02-28T00:00:00.000Z',
  '2028-02-29T00:00:00.000Z',
  '2028-12-31T00:00:00.000Z',
];

/** Whether `period` ends before `floor` from any start (null: permanent, the longest). */
function shorter(period: string | null, floor: string | null): boolean {
  if (period === null) return false;
  if (floor === null || !isDuration(period) || !isDuration(floor)) return true;
  return MEASURED_FROM.some((start) => addDuration(start, period) < addDuration(start, floor));
}

function writeOnceBreaches(document: PolicyDocument): FloorBreach[] {
  const rule = ruleOf(document.classes, 'model_checkpoint');
  const changes = rule?.operations.filter((op) => op === 'UPDATE' || op === 'DELETE') ?? [];
  return changes.map((op) => ({
    floor: 'model_checkpoint_write_once',
    path: '/classes/model_checkpoint/operations',
    message: `"model_checkpoint" stays write-once: no ${op}`,
  }));
}

function readOnlyBreaches(document: PolicyDocument): FloorBreach[] {
  const product = ruleOf(document.products, 'workflow_engine');
  if (!product || product.readOnly) return [];
  return [
    {
      floor: 'workflow_engine_read_only',
      path: '/products/workflow_engine/readOnly',
      message: '"workflow_engine" stays read-only',
    },
  ];
}
