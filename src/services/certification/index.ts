/**
 * The live certification (SPEC §9 pinned): every check of G1–G7, R1–R7, T1–T7, F1–F6 and L1–L5
 * computed from live state or dry runs through the real gate (probe.ts), `certified` only when all
 * pass. One summary audit entry per computation; a result is reused for up to 10 s, and concurrent
 * callers share one computation (docs/decisions/0041).
 */
import { randomUUID } from 'node:crypto';
import type { NoteVerifier } from '../../audit/note.js';
import type { Decision } from '../../domain/decision.js';
import type { Gate } from '../../gate/decide.js';
import type { GateBinding } from '../../http/auth.js';
import type { MetadataStore } from '../../storage/ports.js';
import type { AuditService } from '../audit.js';
import type { Authorizer } from '../authorize.js';
import type { DriftService } from '../drift.js';
import { PolicyDrift } from '../drift-policy.js';
import type { ExceptionService } from '../exceptions.js';
import type { GateHealth } from '../gate-health.js';
import type { GateInfoService } from '../gate-info.js';
import type { IncidentService } from '../incidents.js';
import type { AuditLedger } from '../ledger.js';
import type { PolicyService } from '../policies.js';
import type { ScrubService } from '../scrub.js';
import { detectorChecks } from './detectors.js';
import { failureChecks } from './failures.js';
import { guaranteeChecks } from './guarantees.js';
import { limitChecks } from './limits.js';
import { PROBE_PRINCIPAL_ID, Prober } from './probe.js';
import { recentVersions } from './recent-versions.js';
import { refusalChecks } from './refusals.js';
import type { Certification, CheckDefinition, CheckInputs, CheckResult } from './types.js';

export type { Certification, CheckResult } from './types.js';

/** How long one computation answers (SPEC §9: cached up to 10 s). */
export const CERTIFICATION_CACHE_MS = 10_000;

export interface CertificationDeps {
  readonly metadata: MetadataStore;
  /** The audit signing key's verifier: checkpoint signatures (G2). */
  readonly verifier: NoteVerifier;
  readonly gate: Gate;
  readonly authorizer: Authorizer;
  readonly policies: PolicyService;
  readonly audit: AuditService;
  readonly ledger: AuditLedger;
  readonly incidents: IncidentService;
  readonly scrub: ScrubService;
  readonly drift: DriftService;
  readonly exceptions: ExceptionService;
  readonly gateHealth: GateHealth;
  readonly gateInfo: GateInfoService;
  readonly now: () => number;
}

export class CertificationService {
  private readonly checks: readonly CheckDefinition[];
  private readonly prober: Prober;
  private cached: { at: number; result: Certification } | null = null;
  private computing: Promise<Certification> | null = null;

  constructor(private readonly deps: CertificationDeps) {
    this.prober = new Prober(deps.gate, deps.authorizer, deps.policies);
    this.checks = [
      ...guaranteeChecks({ ...deps, policyEntries: new PolicyDrift(deps.metadata, deps.audit) }),
      ...refusalChecks(deps.exceptions),
      ...detectorChecks(),
      ...failureChecks(deps),
      ...limitChecks(deps.gateInfo),
    ];
  }

  /** The certification, computed now unless one younger than 10 s is at hand. */
  certify(routes: readonly GateBinding[]): Promise<Certification> {
    const cached = this.cached;
    if (cached && this.deps.now() - cached.at < CERTIFICATION_CACHE_MS) {
      return Promise.resolve(cached.result);
    }
    this.computing ??= this.compute(routes).finally(() => (this.computing = null));
    return this.computing;
  }

  /** Forgets the cached result (tests that break a mechanism, then certify again). */
  invalidate(): void {
    this.cached = null;
  }

  private async compute(routes: readonly GateBinding[]): Promise<Certification> {
    const startedAt = this.deps.now();
    const inputs = await this.inputs(routes, startedAt);
    const results: CheckResult[] = [];
    // One after the other: the drift check of G6 is the report F4 reads.
    for (const check of this.checks) results.push(await this.run(check, inputs));
    const view = await this.deps.audit.checkpoint();
    const certified = results.every((result) => result.status === 'pass');
    const result: Certification = {
      status: certified ? 'certified' : 'not_certified',
      generatedAt: new Date(startedAt).toISOString(),
      policyVersion: inputs.policy.version,
      checkpoint: { size: view.size, rootHash: view.rootHash },
      checks: results,
    };
    await this.recordSummary(result);
    this.cached = { at: startedAt, result };
    return result;
  }

  private async inputs(routes: readonly GateBinding[], now: number): Promise<CheckInputs> {
    const { metadata, scrub, incidents, policies } = this.deps;
    const [lastPassedScrub, latestScrub, openIncidents, auditSize] = await Promise.all([
      scrub.lastPassed(),
      scrub.latest(),
      incidents.list('open'),
      metadata.auditSize(),
    ]);
    const from = lastPassedScrub?.checkpoint?.size ?? 0;
    return {
      policy: policies.current(),
      openIncidents,
      lastPassedScrub,
      latestScrub,
      auditSize,
      recent: await recentVersions(metadata, Math.min(from, auditSize), auditSize),
      routes,
      probe: this.prober,
      now,
    };
  }

  /** One check; a check that throws fails with the error as its evidence (never a 5xx). */
  private async run(check: CheckDefinition, inputs: CheckInputs): Promise<CheckResult> {
    let verdict;
    try {
      verdict = await check.run(inputs);
    } catch (error) {
      verdict = { pass: false, evidence: { error: (error as Error).message } };
    }
    return {
      id: check.id,
      name: check.name,
      status: verdict.pass ? 'pass' : 'fail',
      evidence: verdict.evidence,
      checkedAt: new Date(this.deps.now()).toISOString(),
    };
  }

  /** The computation's one audit entry: its status and the checks that failed. */
  private async recordSummary(result: Certification): Promise<void> {
    const failed = result.checks.filter((check) => check.status === 'fail').map((c) => c.id);
    const decision: Decision = {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation: 'certification',
      principal: { id: PROBE_PRINCIPAL_ID, kind: 'auditor', product: null },
      target: { product: null, class: null, name: null },
      reasons: [
        {
          rule: 'certification',
          message:
            failed.length === 0
              ? `certified: ${result.checks.length} checks passed`
              : `not_certified: ${failed.join(', ')} failed`,
        },
      ],
      threats: [],
      policyVersion: result.policyVersion,
    };
    await this.deps.ledger.record({ decision, requestId: `certification-${randomUUID()}` });
  }
}
