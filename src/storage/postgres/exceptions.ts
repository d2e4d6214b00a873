/**
 * The PostgreSQL store's policy exceptions (SPEC §9) — the ExceptionStore port. A decision and an
 * expiry are conditional UPDATEs on the status: of two nodes expiring the same exception, the
 * second waits on the row's lock, then finds it no longer `approved` and stores nothing.
 */
import type pg from 'pg';
import { decisionEvents, type PolicyException } from '../../domain/exceptions.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { ExceptionDecision, ExceptionStore } from '../ports.js';
import {
  decisionValues,
  EXCEPTION_COLUMNS,
  exceptionValues,
  toException,
  type ExceptionRow,
} from '../rows/exceptions.js';
import type { ChangeEntry } from '../ports.js';
import { policyValues } from '../rows.js';
import { BUMP } from './change-stamp.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

const PLACEHOLDERS = Array.from({ length: 17 }, (_, i) => `$${i + 1}`).join(', ');
const INSERT_POLICY =
  'INSERT INTO policy_versions (version, hash, document, reason, created_at, created_by) ' +
  'VALUES ($1, $2, $3, $4, $5, $6)';

export class PgExceptions implements ExceptionStore {
  constructor(
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  async insertException(exception: PolicyException, entry?: ChangeEntry): Promise<void> {
    await this.writer.applyChange(
      async (client) => {
        await (client ?? this.db()).query(
          `INSERT INTO policy_exceptions (${EXCEPTION_COLUMNS}) VALUES (${PLACEHOLDERS})`,
          [...exceptionValues(exception)],
        );
      },
      { entry, events: () => decisionEvents(exception, null) },
    );
  }

  async getException(id: string): Promise<PolicyException | null> {
    const { rows } = await this.db().query<ExceptionRow>(
      'SELECT * FROM policy_exceptions WHERE id = $1',
      [id],
    );
    return rows[0] ? toException(rows[0]) : null;
  }

  async listExceptions(product?: string): Promise<PolicyException[]> {
    const { rows } = await this.db().query<ExceptionRow>(
      'SELECT * FROM policy_exceptions WHERE $1::text IS NULL OR product = $1 ' +
        'ORDER BY requested_at DESC, id',
      [product ?? null],
    );
    return rows.map(toException);
  }

  decideException(id: string, decision: ExceptionDecision, entry?: ChangeEntry) {
    return this.writer.applyChange(
      async (client?: pg.PoolClient) => {
        const db = client ?? this.db();
        const { rows } = await db.query<ExceptionRow>(
          BUMP +
            'UPDATE policy_exceptions SET status = $1, decided_by = $2, decided_at = $3, ' +
            'reason = $4, policy_version = $5, expires_at = $6, revert_patch = $7 ' +
            "WHERE id = $8 AND status = 'pending' RETURNING *",
          [...decisionValues(id, decision)],
        );
        if (!rows[0]) return null;
        if (decision.policy) await db.query(INSERT_POLICY, [...policyValues(decision.policy)]);
        return toException(rows[0]);
      },
      {
        entry,
        changed: (result) => result !== null,
        events: (result) => (result ? decisionEvents(result, decision.policy) : []),
      },
    );
  }

  async dueExceptions(at: string): Promise<PolicyException[]> {
    const { rows } = await this.db().query<ExceptionRow>(
      "SELECT * FROM policy_exceptions WHERE status = 'approved' AND expires_at <= $1 " +
        'ORDER BY expires_at, id',
      [at],
    );
    return rows.map(toException);
  }

  expireException(id: string, at: string, revert: PolicyVersion | null, entry: ChangeEntry) {
    return this.writer.applyChange(
      async (client?: pg.PoolClient) => {
        const db = client ?? this.db();
        const { rows } = await db.query<ExceptionRow>(
          BUMP +
            "UPDATE policy_exceptions SET status = 'expired', expired_at = $1, " +
            "revert_version = $2 WHERE id = $3 AND status = 'approved' RETURNING *",
          [at, revert?.version ?? null, id],
        );
        if (!rows[0]) return null;
        if (revert) await db.query(INSERT_POLICY, [...policyValues(revert)]);
        return toException(rows[0]);
      },
      {
        entry,
        changed: (result) => result !== null,
        events: (result) => (result ? decisionEvents(result, revert) : []),
      },
    );
  }
}
