/** The embedded store's policy versions: the PolicyStore port. */
import type Database from 'better-sqlite3';
import { policyChanged } from '../../domain/events.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { ChangeEntry, PolicyStore } from '../ports.js';
import { policyValues, toPolicy, type PolicyRow } from '../rows.js';
import type { SqliteChanges } from './changes.js';

export class SqlitePolicies implements PolicyStore {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      latest: db.prepare<[], PolicyRow>(
        'SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1',
      ),
      insert: db.prepare(
        'INSERT INTO policy_versions (version, hash, document, reason, created_at, created_by) ' +
          'VALUES (?, ?, ?, ?, ?, ?)',
      ),
      list: db.prepare<[], PolicyRow>('SELECT * FROM policy_versions ORDER BY version'),
      byVersion: db.prepare<[number], PolicyRow>('SELECT * FROM policy_versions WHERE version = ?'),
    };
  }

  async latestPolicy(): Promise<PolicyVersion | null> {
    const row = this.statements.latest.get();
    return row ? toPolicy(row) : null;
  }

  async insertPolicy(policy: PolicyVersion, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(() => this.statements.insert.run(...policyValues(policy)), {
      entry,
      events: () => [policyChanged(policy)],
    });
  }

  async listPolicies(): Promise<PolicyVersion[]> {
    return this.statements.list.all().map(toPolicy);
  }

  async getPolicy(version: number): Promise<PolicyVersion | null> {
    const row = this.statements.byVersion.get(version);
    return row ? toPolicy(row) : null;
  }
}
