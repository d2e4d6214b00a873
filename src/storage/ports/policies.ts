/** The PolicyStore port: the policy document's versions. */
import type { PolicyVersion } from '../../domain/policy.js';
import type { ChangeEntry } from './change-entry.js';

/** Policy versions: every stored version, the newest live. */
export interface PolicyStore {
  latestPolicy(): Promise<PolicyVersion | null>;
  insertPolicy(policy: PolicyVersion, entry?: ChangeEntry): Promise<void>;
  /** Every policy version, oldest first. */
  listPolicies(): Promise<PolicyVersion[]>;
  getPolicy(version: number): Promise<PolicyVersion | null>;
}
