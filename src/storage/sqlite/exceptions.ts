/**
 * The embedded store's policy exceptions (SPEC §9) — the ExceptionStore port. A decision and an
 * expiry are conditional UPDATEs on the status, in one transaction with the policy version they
 * make, its entry and its events (SqliteChanges).
 */
import type Database from 'better-sqlite3';
import { decisionEvents, exceptionEvent, type PolicyException } from '../../domain/exceptions.js';
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
import type { SqliteChanges } from './changes.js';

export class SqliteExceptions implements ExceptionStore {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO policy_exceptions (${EXCEPTION_COLUMNS}) VALUES (${'?, '.repeat(16)}?)`,
      ),
      byId: db.prepare<[string], ExceptionRow>('SELECT * FROM policy_exceptions WHERE id = ?'),
      all: db.prepare<[], ExceptionRow>(
        'SELECT * FROM policy_exceptions ORDER BY requested_at DESC, id',
      ),
      byProduct: db.prepare<[string], ExceptionRow>(
        'SELECT * FROM policy_exceptions WHERE product = ? ORDER BY requested_at DESC, id',
      ),
      decide: db.prepare(
        'UPDATE policy_exceptions SET status = ?, decided_by = ?, decided_at = ?, reason = ?, ' +
          "policy_version = ?, expires_at = ?, revert_patch = ? WHERE id = ? AND status = 'pending'",
      ),
      due: db.prepare<[string], ExceptionRow>(
        "SELECT * FROM policy_exceptions WHERE status = 'approved' AND expires_at <= ? " +
          'ORDER BY expires_at, id',
      ),
      expire: db.prepare(
        "UPDATE policy_exceptions SET status = 'expired', expired_at = ?, revert_version = ? " +
          "WHERE id = ? AND status = 'approved'",
      ),
      insertPolicy: db.prepare(
        'INSERT INTO policy_versions (version, hash, document, reason, created_at, created_by) ' +
          'VALUES (?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  async insertException(exception: PolicyException, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(
      () => this.statements.insert.run(...exceptionValues(exception)),
      { entry, events: () => [exceptionEvent(exception, 'requested')] },
    );
  }

  async getException(id: string): Promise<PolicyException | null> {
    const row = this.statements.byId.get(id);
    return row ? toException(row) : null;
  }

  async listExceptions(product?: string): Promise<PolicyException[]> {
    const rows =
      product === undefined ? this.statements.all.all() : this.statements.byProduct.all(product);
    return rows.map(toException);
  }

  decideException(id: string, decision: ExceptionDecision, entry?: ChangeEntry) {
    return this.changes.applyChange(
      () => {
        const changed = this.statements.decide.run(...decisionValues(id, decision)).changes;
        if (changed === 0) return null;
        if (decision.policy) this.statements.insertPolicy.run(...policyValues(decision.policy));
        const row = this.statements.byId.get(id);
        return row ? toException(row) : null;
      },
      {
        entry,
        changed: (result) => result !== null,
        events: (result) => (result ? decisionEvents(result, decision.policy) : []),
      },
    );
  }

  async dueExceptions(at: string): Promise<PolicyException[]> {
    return this.statements.due.all(at).map(toException);
  }

  expireException(id: string, at: string, revert: PolicyVersion | null, entry: ChangeEntry) {
    return this.changes.applyChange(
      () => {
        const changed = this.statements.expire.run(at, revert?.version ?? null, id).changes;
        if (changed === 0) return null;
        if (revert) this.statements.insertPolicy.run(...policyValues(revert));
        const row = this.statements.byId.get(id);
        return row ? toException(row) : null;
      },
      {
        entry,
        changed: (result) => result !== null,
        events: (result) => (result ? decisionEvents(result, revert) : []),
      },
    );
  }
}
