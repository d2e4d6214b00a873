/** Threat records (SPEC §5): every detection, kept for counts, escalation and the audit trail. */
import type { Severity, ThreatId } from './decision.js';
import type { PrincipalKind } from './principal.js';

export interface ThreatRecord {
  readonly at: string;
  readonly requestId: string;
  readonly principalId: string | null;
  readonly principalKind: PrincipalKind | null;
  readonly product: string | null;
  readonly threatId: ThreatId;
  readonly severity: Severity;
  readonly evidence: string;
  /**
   * Whether the detection counts toward the key's suspension: threats found in a
   * validate-integration proposal reject the proposal and do not (SPEC §4.2).
   */
  readonly counted: boolean;
}

export interface KeySuspension {
  readonly keyId: string;
  readonly suspendedAt: string;
  readonly reason: string;
}
