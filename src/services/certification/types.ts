/** The certification's shapes (SPEC §9 pinned): checks, their inputs, the answer. */
import type { Incident } from '../../domain/modes.js';
import type { ScrubRecord } from '../../domain/scrub.js';
import type { PolicyVersion } from '../../domain/policy.js';
import type { GateBinding } from '../../http/auth.js';
import type { RecentVersions } from './recent-versions.js';
import type { Prober } from './probe.js';

export type CheckStatus = 'pass' | 'fail';

export interface CheckResult {
  readonly id: string;
  readonly name: string;
  readonly status: CheckStatus;
  readonly evidence: Record<string, unknown>;
  readonly checkedAt: string;
}

export interface Certification {
  readonly status: 'certified' | 'not_certified';
  readonly generatedAt: string;
  readonly policyVersion: number;
  readonly checkpoint: { readonly size: number; readonly rootHash: string };
  readonly checks: CheckResult[];
}

/** What every check of one computation reads, gathered once. */
export interface CheckInputs {
  readonly policy: PolicyVersion;
  readonly openIncidents: readonly Incident[];
  readonly lastPassedScrub: ScrubRecord | null;
  readonly latestScrub: ScrubRecord | null;
  /** The audit tree's size now. */
  readonly auditSize: number;
  /** Versions written since the last passed scrub's checkpoint, checked against their entries. */
  readonly recent: RecentVersions;
  /** Every route with its gate binding, as registered. */
  readonly routes: readonly GateBinding[];
  readonly probe: Prober;
  readonly now: number;
}

/** A check's verdict before it is stamped with its id, name and time. */
export interface Verdict {
  readonly pass: boolean;
  readonly evidence: Record<string, unknown>;
}

export interface CheckDefinition {
  readonly id: string;
  readonly name: string;
  readonly run: (inputs: CheckInputs) => Promise<Verdict>;
}

/** The open incidents of `kind`, as evidence, and whether there is none. */
export function incidentsOf(inputs: CheckInputs, kind: Incident['kind']) {
  const open = inputs.openIncidents.filter((incident) => incident.kind === kind);
  return { clear: open.length === 0, openIncidents: open.map((incident) => incident.id) };
}
