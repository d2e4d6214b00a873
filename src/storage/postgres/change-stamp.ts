/**
 * The change stamp of the PostgreSQL store: a counter every change of a key, policy, integration
 * or suspension moves in its own statement or transaction, so that caches on every node see it
 * (`changeStamp()`, services/coherence.ts).
 */
import type { Queryable } from './connection.js';

/** Prefixes a data-modifying statement with the stamp's move: both happen or neither. */
export const BUMP = 'WITH bump AS (UPDATE change_stamp SET value = value + 1 WHERE id = 1) ';

export async function readChangeStamp(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ value: number }>('SELECT value FROM change_stamp WHERE id = 1');
  return String(rows[0]?.value ?? 0);
}
