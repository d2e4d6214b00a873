/** The GovernanceStore port: integrations, threat records, key suspensions. */
import type { IntegrationRecord } from '../../domain/integration.js';
import type { KeyRecord } from '../../domain/principal.js';
import type { KeySuspension, ThreatRecord } from '../../domain/threats.js';
import type { ChangeEntry } from './change-entry.js';

/** Integrations (SPEC §4.2), threat records and key suspensions (SPEC §5). */
export interface GovernanceStore {
  insertIntegration(record: IntegrationRecord, entry?: ChangeEntry): Promise<void>;
  /** An integration by its product and id: ids are scoped by product. */
  getIntegration(product: string, id: string): Promise<IntegrationRecord | null>;
  listIntegrations(): Promise<IntegrationRecord[]>;
  /**
   * Atomically revokes the integration and every key bound to it; returns the integration and the
   * keys revoked by this call, or null when it does not exist.
   */
  revokeIntegration(
    product: string,
    id: string,
    at: string,
    entry?: ChangeEntry,
  ): Promise<{ integration: IntegrationRecord; revokedKeys: KeyRecord[] } | null>;

  insertThreatRecords(records: readonly ThreatRecord[]): Promise<void>;
  /** Distinct requests of a principal with a counted CRITICAL detection since `since`. */
  countCriticalRequests(principalId: string, since: string): Promise<number>;
  /** Detections per threat id, since `since` (or ever when null). */
  threatCounts(since: string | null): Promise<Record<string, number>>;
  /** The newest detections first. */
  recentThreats(limit: number): Promise<ThreatRecord[]>;
  suspendKey(suspension: KeySuspension): Promise<void>;
  /** Lifts a suspension; false when the key was not suspended. */
  reinstateKey(keyId: string, entry?: ChangeEntry): Promise<boolean>;
  listSuspensions(): Promise<KeySuspension[]>;
}
