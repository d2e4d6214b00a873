/** The PostgreSQL store's policy versions: the PolicyStore port. */
import type pg from 'pg';
import { policyChanged } from '../../domain/events.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { ChangeEntry, PolicyStore } from '../ports.js';
import { policyValues, toPolicy, type PolicyRow } from '../rows.js';
import { BUMP } from './change-stamp.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

export class PgPolicies implements PolicyStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  async latestPolicy(): Promise<PolicyVersion | null> {
    const { rows } = await this.db().query<PolicyRow>(
      'SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1',
    );
    return rows[0] ? toPolicy(rows[0]) : null;
  }

  insertPolicy(policy: PolicyVersion, entry?: ChangeEntry): Promise<void> {
    return this.writer.applyChange(
      async (client) => {
        await (client ?? this.pool).query(
          BUMP +
            'INSERT INTO policy_versions (version, hash, document, reason, created_at, created_by) ' +
            'VALUES ($1, $2, $3, $4, $5, $6)',
          [...policyValues(policy)],
        );
      },
      { entry, events: () => [policyChanged(policy)] },
    );
  }

  async listPolicies(): Promise<PolicyVersion[]> {
    const { rows } = await this.db().query<PolicyRow>(
      'SELECT * FROM policy_versions ORDER BY version',
    );
    return rows.map(toPolicy);
  }

  async getPolicy(version: number): Promise<PolicyVersion | null> {
    const { rows } = await this.db().query<PolicyRow>(
      'SELECT * FROM policy_versions WHERE version = $1',
      [version],
    );
    return rows[0] ? toPolicy(rows[0]) : null;
  }
}
