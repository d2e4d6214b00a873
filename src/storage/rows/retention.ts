/** Legal holds' rows (SPEC §8), both adapters. */
import type { HoldScope, LegalHold } from '../../domain/holds.js';

/** A legal hold's row (both adapters). */
export interface HoldRow {
  id: string;
  scope: string;
  case_ref: string;
  reason: string;
  placed_at: string;
  placed_by: string;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

export function toHold(row: HoldRow): LegalHold {
  return {
    id: row.id,
    scope: JSON.parse(row.scope) as HoldScope,
    caseRef: row.case_ref,
    reason: row.reason,
    placedAt: row.placed_at,
    placedBy: row.placed_by,
    liftedAt: row.lifted_at,
    liftedBy: row.lifted_by,
    liftReason: row.lift_reason,
  };
}

/** A hold's values in the column order both adapters insert. */
export function holdValues(hold: LegalHold) {
  return [
    hold.id,
    JSON.stringify(hold.scope),
    hold.caseRef,
    hold.reason,
    hold.placedAt,
    hold.placedBy,
    hold.liftedAt,
    hold.liftedBy,
    hold.liftReason,
  ] as const;
}
