/**
 * Dry runs of the certification (SPEC §9): real decisions of the real gate, made as a synthetic
 * principal acting through a synthetic approved integration, decided by `Gate.decide` directly —
 * like validate-operation (services/gate-info.ts), nothing is observed or recorded: no threat
 * record, no suspension count, no audit entry of their own.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ArtifactVersion } from '../../domain/artifact.js';
import type { Decision } from '../../domain/decision.js';
import type { IntegrationRecord } from '../../domain/integration.js';
import type { LegalHold } from '../../domain/holds.js';
import type { Principal, PrincipalKind } from '../../domain/principal.js';
import type { RateVerdict } from '../../domain/rates.js';
import type { Action } from '../../gate/actions.js';
import type { Gate } from '../../gate/decide.js';
import { acceptedMediaTypes } from '../../gate/stages/content.js';
import { ruleOf } from '../../domain/policy.js';
import type { Authorizer, ContextFields } from '../authorize.js';
import type { PolicyService } from '../policies.js';

/** Who the dry runs act as. No key has this id; built-in ids start with `bucket:`. */
export const PROBE_PRINCIPAL_ID = 'bucket:certification';
const PROBE_INTEGRATION_ID = 'bucket-certification-probe';

export interface ProbeRequest {
  readonly kind?: PrincipalKind;
  /** The product the synthetic key belongs to (null for Bucket-wide kinds). */
  readonly as: string | null;
  readonly action: Action;
  readonly product?: string | null;
  readonly class?: string | null;
  readonly name?: string;
  /** The target exists (its current version), or null for a new name. */
  readonly head?: ArtifactVersion | null;
  readonly holds?: readonly LegalHold[];
  /** A JSON body the content stage inspects. */
  readonly json?: unknown;
  readonly size?: number;
  readonly meta?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly sha256Claim?: string;
  readonly rate?: RateVerdict;
  readonly usage?: ContextFields['usage'];
  readonly retentionChange?: ContextFields['retentionChange'];
}

/** A stand-in current version of a probed name: it exists, live, under compliance retention. */
export function probeHead(product: string, classId: string): ArtifactVersion {
  return {
    product,
    class: classId,
    name: 'certification/probe',
    version: 1,
    sha256: '0'.repeat(64),
    size: 2,
    contentType: 'application/json',
    meta: {},
    createdAt: new Date().toISOString(),
    createdBy: PROBE_PRINCIPAL_ID,
    retention: { mode: 'compliance', until: null },
    tombstone: false,
    storage: 'none',
  };
}

export class Prober {
  constructor(
    private readonly gate: Gate,
    private readonly authorizer: Authorizer,
    private readonly policies: PolicyService,
  ) {}

  /** The gate's decision on `probe`, in `normal` mode: the rule probed, not the Bucket's mode. */
  async decide(probe: ProbeRequest): Promise<Decision> {
    const kind = probe.kind ?? 'product';
    const principal: Principal = {
      id: PROBE_PRINCIPAL_ID,
      kind,
      product: probe.as,
      integrationId: probe.as === null ? null : PROBE_INTEGRATION_ID,
    };
    const bytes = probe.json === undefined ? null : Buffer.from(JSON.stringify(probe.json), 'utf8');
    const size = bytes?.length ?? probe.size ?? 2;
    const ctx = this.authorizer.context(
      { requestId: `certification-${randomUUID()}`, principal },
      probe.action,
      {
        product: probe.product ?? null,
        class: probe.class ?? null,
        name: probe.class ? (probe.name ?? 'certification/probe') : null,
        contentType: bytes ? 'application/json' : this.mediaTypeOf(probe.class ?? null),
        declaredSize: size,
        meta: probe.meta,
        query: probe.query,
        sha256Claim: probe.sha256Claim,
        target: { head: probe.head ?? null, holds: probe.holds ?? [] },
        content: bytes
          ? { size, sha256: createHash('sha256').update(bytes).digest('hex'), bytes }
          : undefined,
        writeSlot: probe.action === 'artifact.write' ? true : undefined,
        usage: probe.usage,
        rate: probe.rate,
        retentionChange: probe.retentionChange,
        integration:
          principal.integrationId === null
            ? null
            : this.integration(probe.as ?? '', probe.class ?? null),
      },
    );
    return (await this.gate.decide({ ...ctx, mode: 'normal' })).decision;
  }

  /** A content type the class accepts (what a real client of it sends). */
  private mediaTypeOf(classId: string | null): string {
    const rule =
      classId === null ? undefined : ruleOf(this.policies.current().document.classes, classId);
    return (rule && acceptedMediaTypes(rule)?.[0]) ?? 'application/octet-stream';
  }

  /**
   * An approved integration of `product` declaring every class the policy knows and the probed
   * one: what a dry run probes is the rule after the integration stage, not the declaration.
   */
  private integration(product: string, classId: string | null): IntegrationRecord {
    const classes = Object.keys(this.policies.current().document.classes);
    return {
      id: PROBE_INTEGRATION_ID,
      type: 'service',
      product,
      classes: classId === null ? classes : [...classes, classId],
      dataSchema: {},
      approvedAt: new Date(0).toISOString(),
      approvedBy: PROBE_PRINCIPAL_ID,
      revokedAt: null,
    };
  }
}

/** Whether a decision denied with `rule` among its reasons (or any denial when omitted). */
export function deniedBy(decision: Decision, rule?: string): boolean {
  return !decision.allow && (rule === undefined || decision.reasons.some((r) => r.rule === rule));
}

/** Whether a decision reported threat `id`. */
export function reports(decision: Decision, id: string): boolean {
  return decision.threats.some((found) => found.id === id);
}

/** A decision, shortened for a check's evidence. */
export function brief(decision: Decision) {
  return {
    allow: decision.allow,
    status: decision.status,
    rules: decision.reasons.map((reason) => reason.rule),
    threats: decision.threats.map((found) => found.id),
  };
}
