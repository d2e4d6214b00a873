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

/** SPEC §5 T1: ≥ 20 failed authentications from one address within 60 s start a cooldown. */
export interface BruteForceRule {
  readonly failures: number;
  readonly windowMs: number;
  /** How long further failing keys from that address are answered 429. */
  readonly cooldownMs: number;
}

export const BRUTE_FORCE: BruteForceRule = { failures: 20, windowMs: 60_000, cooldownMs: 60_000 };

export interface AuthFailureVerdict {
  /** Milliseconds the address stays blocked for failing keys; 0 when it is not blocked. */
  readonly blockedForMs: number;
  /** True for the failure that started the block (recorded once as a T1 detection). */
  readonly tripped: boolean;
}
