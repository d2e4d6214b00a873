/**
 * Threat records and escalation (SPEC §5): every detection is recorded; a key with CRITICAL
 * detections in `criticalRequests` requests within the window is suspended before its next request
 * is decided, until the owner reinstates it. Owner keys are never suspended.
 */
import { THREAT_NAMES, type Decision, type Threat, type ThreatId } from '../domain/decision.js';
import { BucketError } from '../domain/errors.js';
import { ESCALATION_DEFAULTS } from '../domain/policy.js';
import type { Principal } from '../domain/principal.js';
import type { KeySuspension, ThreatRecord } from '../domain/threats.js';
import { DETECTORS, type DetectorInfo } from '../gate/detectors/index.js';
import type { ChangeEntry, MetadataStore } from '../storage/ports.js';
import type { PolicyService } from './policies.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Threats remembered per request, so that a write decided twice records a detection once. */
const RECENT_DETECTIONS = 4096;

export interface ThreatCatalogueEntry {
  readonly id: ThreatId;
  readonly name: string;
  readonly severity: string;
  readonly detections: number;
  readonly last24h: number;
  /** The request and content detectors that raise it (src/gate/detectors/). */
  readonly detectors: DetectorInfo[];
}

export class ThreatService {
  /** The suspended keys, by key id, as stored (when and why). */
  private readonly suspended = new Map<string, KeySuspension>();
  /** Changes this node made to `suspended` since it started (see reload). */
  private localChanges = 0;
  private readonly recent = new Set<string>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly policies: PolicyService,
    /** Told of every record stored (the metrics count threats by id). */
    private readonly onRecorded?: (records: readonly ThreatRecord[]) => void,
  ) {}

  async init(): Promise<void> {
    for (const suspension of await this.metadata.listSuspensions()) {
      this.suspended.set(suspension.keyId, suspension);
    }
  }

  /**
   * Reads the suspensions again: another node may have suspended or reinstated a key. A read that
   * a change of this node overtook is dropped (the next poll reads again: the change moved the
   * stamp).
   */
  async reload(): Promise<void> {
    const seen = this.localChanges;
    const suspensions = await this.metadata.listSuspensions();
    if (seen !== this.localChanges) return;
    this.suspended.clear();
    for (const suspension of suspensions) this.suspended.set(suspension.keyId, suspension);
  }

  isSuspended(keyId: string): boolean {
    return this.suspended.has(keyId);
  }

  /** Records a decision's threats and suspends its key when the escalation rule says so. */
  async observe(requestId: string, decision: Decision, counted = true): Promise<void> {
    const fresh = decision.threats.filter((found) => {
      const id = `${requestId}\u0000${found.id}\u0000${found.evidence}`;
      if (this.recent.has(id)) return false;
      if (this.recent.size >= RECENT_DETECTIONS) {
        const oldest = this.recent.values().next().value;
        if (oldest !== undefined) this.recent.delete(oldest);
      }
      this.recent.add(id);
      return true;
    });
    if (fresh.length === 0) return;
    await this.record(requestId, decision.principal, fresh, counted);
    const principal = decision.principal;
    if (!counted || principal.kind === 'owner' || this.suspended.has(principal.id)) return;
    if (!fresh.some((found) => found.severity === 'CRITICAL')) return;
    const rule = this.policies.current().document.escalation ?? ESCALATION_DEFAULTS;
    const since = new Date(Date.now() - rule.windowSeconds * 1000).toISOString();
    const count = await this.metadata.countCriticalRequests(principal.id, since);
    if (count >= rule.criticalRequests) {
      const reason = `${count} requests with a CRITICAL detection within ${rule.windowSeconds} s`;
      const suspension = { keyId: principal.id, suspendedAt: new Date().toISOString(), reason };
      await this.metadata.suspendKey(suspension);
      this.suspended.set(principal.id, suspension);
      this.localChanges += 1;
    }
  }

  /** Records detections that never count toward suspension (a validate-integration proposal). */
  async recordUncounted(
    requestId: string,
    principal: Pick<Principal, 'id' | 'kind' | 'product'>,
    threats: readonly Threat[],
  ): Promise<void> {
    if (threats.length > 0) await this.record(requestId, principal, threats, false);
  }

  /** Records a detection made before any principal is known (a brute-force address). */
  async recordAnonymous(requestId: string, found: Threat): Promise<void> {
    await this.store([
      {
        at: new Date().toISOString(),
        requestId,
        principalId: null,
        principalKind: null,
        product: null,
        threatId: found.id,
        severity: found.severity,
        evidence: found.evidence,
        counted: false,
      },
    ]);
  }

  private async record(
    requestId: string,
    principal: Pick<Principal, 'id' | 'kind' | 'product'>,
    threats: readonly Threat[],
    counted: boolean,
  ): Promise<void> {
    const at = new Date().toISOString();
    const records: ThreatRecord[] = threats.map((found) => ({
      at,
      requestId,
      principalId: principal.id,
      principalKind: principal.kind,
      product: principal.product,
      threatId: found.id,
      severity: found.severity,
      evidence: found.evidence,
      counted,
    }));
    await this.store(records);
  }

  private async store(records: ThreatRecord[]): Promise<void> {
    await this.metadata.insertThreatRecords(records);
    this.onRecorded?.(records);
  }

  async reinstate(
    keyId: string,
    entry?: ChangeEntry,
  ): Promise<{ keyId: string; reinstated: boolean }> {
    const key = await this.metadata.getKey(keyId);
    if (!key) throw new BucketError('key_not_found', `no key "${keyId}"`);
    const reinstated = await this.metadata.reinstateKey(keyId, entry);
    this.suspended.delete(keyId);
    this.localChanges += 1;
    return { keyId, reinstated };
  }

  async last24h(): Promise<number> {
    const counts = await this.metadata.threatCounts(new Date(Date.now() - DAY_MS).toISOString());
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /** The catalogue T1–T7 with live counts, and the most recent detections. */
  async catalogue(recentLimit = 50): Promise<{
    threats: ThreatCatalogueEntry[];
    recent: ThreatRecord[];
    suspendedKeys: KeySuspension[];
  }> {
    const ever = await this.metadata.threatCounts(null);
    const day = await this.metadata.threatCounts(new Date(Date.now() - DAY_MS).toISOString());
    const threats = (Object.keys(THREAT_NAMES) as ThreatId[]).map((id) => ({
      id,
      ...THREAT_NAMES[id],
      detections: ever[id] ?? 0,
      last24h: day[id] ?? 0,
      detectors: DETECTORS.filter((detector) => detector.threat === id),
    }));
    return {
      threats,
      recent: await this.metadata.recentThreats(recentLimit),
      suspendedKeys: [...this.suspended.values()].map(({ keyId, suspendedAt, reason }) => ({
        keyId,
        suspendedAt,
        reason,
      })),
    };
  }
}
