/** The decision record (SPEC §4.3, pinned fields). */
import type { PrincipalKind } from './principal.js';

export type ThreatId = 'T1' | 'T2' | 'T3' | 'T4' | 'T5' | 'T6' | 'T7';
export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM';

export interface Reason {
  readonly rule: string;
  readonly message: string;
}

export interface Threat {
  readonly id: ThreatId;
  readonly name: string;
  readonly severity: Severity;
  readonly evidence: string;
}

export interface Decision {
  readonly id: string;
  readonly allow: boolean;
  readonly status: number;
  readonly operation: string;
  readonly principal: { id: string; kind: PrincipalKind; product: string | null };
  readonly target: { product: string | null; class: string | null; name: string | null };
  readonly reasons: Reason[];
  readonly threats: Threat[];
  readonly policyVersion: number;
}

export const THREAT_NAMES: Record<ThreatId, { name: string; severity: Severity }> = {
  T1: { name: 'Access control bypass', severity: 'CRITICAL' },
  T2: { name: 'Schema corruption', severity: 'CRITICAL' },
  T3: { name: 'Data loss', severity: 'CRITICAL' },
  T4: { name: 'Governance circumvention', severity: 'HIGH' },
  T5: { name: 'Scale failure', severity: 'HIGH' },
  T6: { name: 'Legal ambiguity', severity: 'MEDIUM' },
  T7: { name: 'Over-trust', severity: 'MEDIUM' },
};

export function threat(id: ThreatId, evidence: string): Threat {
  return { id, ...THREAT_NAMES[id], evidence };
}
