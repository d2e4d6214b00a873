/**
 * The seed's gate endpoints as use cases (SPEC §4.2): a dry-run decision of an operation through
 * an integration, and the limits, rules and status the gate enforces, read from the live policy
 * and live counters.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import type { Decision } from '../domain/decision.js';
import { ruleOf, type Operation, type PolicyDocument } from '../domain/policy.js';
import { PRODUCT_SCOPED_KINDS, type Principal } from '../domain/principal.js';
import { ACTION_FOR_OPERATION } from '../gate/actions.js';
import type { TargetState } from '../gate/context.js';
import type { Gate } from '../gate/decide.js';
import { acceptedMediaTypes } from '../gate/stages/content.js';
import type { Limiter, MetadataStore } from '../storage/ports.js';
import { peekLimits } from './artifacts/deps.js';
import type { Authorizer, RequestInfo } from './authorize.js';
import type { IntegrationService } from './integrations.js';
import type { PolicyService } from './policies.js';
import type { GateHealth } from './gate-health.js';
import type { ModeService } from './modes.js';
import type { DecisionStats } from './stats.js';
import type { ThreatService } from './threats.js';

/** An operation to decide as a dry run (`POST /governance/gate/validate-operation`). */
export interface OperationDryRun {
  readonly integrationId: string;
  readonly operationType: Operation;
  readonly artifactClass: string;
  readonly dataSize: number;
  readonly product: string | null;
}

export interface GateInfoDeps {
  readonly gate: Gate;
  readonly authorizer: Authorizer;
  readonly policies: PolicyService;
  readonly integrations: IntegrationService;
  readonly metadata: MetadataStore;
  readonly limiter: Limiter;
  readonly stats: DecisionStats;
  readonly threats: ThreatService;
  readonly modes: ModeService;
  readonly gateHealth: GateHealth;
}

/** A stand-in head for the dry run of UPDATE and DELETE: the name exists, live. */
function existingHead(product: string, classId: string): ArtifactVersion {
  return {
    product,
    class: classId,
    name: 'validate-operation',
    version: 1,
    sha256: '0'.repeat(64),
    size: 0,
    contentType: 'application/octet-stream',
    meta: {},
    createdAt: new Date().toISOString(),
    createdBy: 'validate-operation',
    retention: { mode: 'none', until: null },
    tombstone: false,
    storage: 'none',
  };
}

export class GateInfoService {
  constructor(private readonly deps: GateInfoDeps) {}

  /**
   * The real decision for `dryRun`, made as a product key of its integration, with no side
   * effects: it records no threats and counts toward no suspension. It sees the facts the real
   * request would — the usage, the rate's verdict, a free write slot — peeked, not spent or held.
   * A product key asks only for its own product (that check is decided and recorded like any
   * other), and another product's integration is to it what an unknown id is: it learns nothing
   * of other products' integrations.
   */
  async validateOperation(request: RequestInfo, dryRun: OperationDryRun): Promise<Decision> {
    const { authorizer, integrations, policies } = this.deps;
    const scoped = PRODUCT_SCOPED_KINDS.has(request.principal.kind);
    // Ids are scoped by product: a product key's lookup is in its own product, so another
    // product's id is as unknown to it as an id nobody approved (docs/decisions/0026). The owner's
    // and executor's name the one integration of that id, or the target product's when several
    // products hold it.
    const integration = scoped
      ? integrations.lookup(request.principal.product, dryRun.integrationId)
      : (integrations.only(dryRun.integrationId) ??
        integrations.lookup(dryRun.product, dryRun.integrationId));
    const product = integration?.product ?? dryRun.product ?? request.principal.product;
    if (scoped) {
      await authorizer.authorize(
        authorizer.context(request, 'gate.validate_operation', { product }),
      );
    }
    const principal: Principal = {
      id: request.principal.id,
      kind: 'product',
      product,
      integrationId: dryRun.integrationId,
    };
    const classRule = ruleOf(policies.current().document.classes, dryRun.artifactClass);
    const target: TargetState = {
      head:
        dryRun.operationType === 'UPDATE' || dryRun.operationType === 'DELETE'
          ? existingHead(product ?? '', dryRun.artifactClass)
          : null,
    };
    const targetProduct = dryRun.product ?? product;
    const reads = dryRun.operationType === 'READ';
    const limits =
      targetProduct === null
        ? null
        : await peekLimits(this.deps, reads ? 'read' : 'write', targetProduct);
    const writes = dryRun.operationType === 'CREATE' || dryRun.operationType === 'UPDATE';
    const ctx = authorizer.context(
      { requestId: request.requestId, principal },
      ACTION_FOR_OPERATION[dryRun.operationType],
      {
        product: targetProduct,
        class: dryRun.artifactClass,
        contentType: (classRule && acceptedMediaTypes(classRule)?.[0]) ?? null,
        declaredSize: dryRun.dataSize,
        // As the real request: reads hold no write slot, and only writes of content use storage.
        writeSlot: reads ? undefined : (limits?.writeSlot ?? true),
        usage:
          writes && targetProduct !== null
            ? await this.deps.metadata.usageFacts(targetProduct)
            : undefined,
        rate: limits?.rate,
        target,
        integration,
      },
    );
    // Decided by the gate directly, not the authorizer: nothing is observed or recorded.
    return (await this.deps.gate.decide(ctx)).decision;
  }

  /** The limits the gate enforces, with current usage (`GET /governance/gate/scale-limits`). */
  async scaleLimits() {
    const { metadata, limiter } = this.deps;
    const policy = this.deps.policies.current();
    const products: Record<string, object> = {};
    let artifacts = 0;
    let bytes = 0;
    for (const [id, rule] of Object.entries(policy.document.products)) {
      const usage = await metadata.usage(id);
      artifacts += usage.artifacts;
      bytes += usage.bytes;
      products[id] = {
        bytes: usage.bytes,
        quotaBytes: rule.quotaBytes,
        artifacts: usage.artifacts,
        maxArtifacts: rule.maxArtifacts,
      };
    }
    const concurrentWrites = await limiter.writesInFlight();
    const rates = await limiter.rateUsage();
    return {
      policyVersion: policy.version,
      limits: policy.document.limits,
      usage: {
        concurrentWrites,
        // Artifact requests accepted over the last second (SPEC §2.3 rates).
        writesPerSecond: rates.write,
        readsPerSecond: rates.read,
        artifacts,
        bytes,
        products,
      },
    };
  }

  /** Products and their classes, from the live policy. */
  productRules() {
    const policy = this.deps.policies.current();
    return {
      policyVersion: policy.version,
      products: policy.document.products,
      rejectedClasses: policy.document.rejectedClasses,
    };
  }

  /** Class × operation rules, from the live policy. */
  operationRules() {
    const policy = this.deps.policies.current();
    return {
      policyVersion: policy.version,
      classes: classRules(policy.document),
      principals: { ai_agent: ['CREATE', 'READ'] },
    };
  }

  /**
   * Live gate status and counts: `halted` with the Bucket, `degraded` while a decision failed
   * closed within the last 60 s, else `active` (SPEC §9).
   */
  async status() {
    const { policies, integrations, stats, threats, modes, gateHealth } = this.deps;
    const mode = modes.mode();
    return {
      status: gateHealth.status(mode),
      mode,
      policyVersion: policies.current().version,
      approvedIntegrations: integrations.activeCount(),
      decisionsLastHour: stats.lastHour(),
      threatsLast24h: await threats.last24h(),
    };
  }
}

function classRules(document: PolicyDocument) {
  return Object.fromEntries(
    Object.entries(document.classes).map(([id, rule]) => [
      id,
      {
        operations: rule.operations,
        content: rule.content,
        maxBytes: rule.maxBytes,
        retention: rule.retention,
      },
    ]),
  );
}
