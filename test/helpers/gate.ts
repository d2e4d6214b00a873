/** Building gate contexts for unit tests of the gate stages and `Gate.decide`, without a server. */
import type { StageVerdict } from '../../src/gate/context.js';
import type { ArtifactVersion } from '../../src/domain/artifact.js';
import type { PolicyDocument, PolicyVersion } from '../../src/domain/policy.js';
import type { Principal, PrincipalKind } from '../../src/domain/principal.js';
import type { GateContext } from '../../src/gate/context.js';
import type { IntegrationRecord } from '../../src/domain/integration.js';
import { defaultPolicyVersion as defaultPolicy, loadDefaultPolicy } from '../../src/policy/load.js';

/** The shipped default policy as policy version 1. */
export function defaultPolicyVersion(
  document: PolicyDocument = loadDefaultPolicy(),
): PolicyVersion {
  return defaultPolicy(document, '2026-01-01T00:00:00.000Z');
}

const SHARED_POLICY = defaultPolicyVersion();

export function principal(kind: PrincipalKind, product: string | null = null): Principal {
  const integrated = kind === 'product' || kind === 'ai_agent';
  return {
    id: `key_${kind}_${product ?? 'all'}`,
    kind,
    product,
    integrationId: integrated ? `int_${product ?? ''}` : null,
  };
}

/**
 * The approved integration a product or ai_agent principal acts through in unit tests: it declares
 * every class the product is allowed (stage 2 then lets through what stage 3 decides).
 */
export function integrationFor(
  principalOf: Principal,
  document: PolicyDocument = SHARED_POLICY.document,
): IntegrationRecord | null {
  if (principalOf.kind !== 'product' && principalOf.kind !== 'ai_agent') return null;
  const product = principalOf.product ?? '';
  return {
    id: principalOf.integrationId ?? `int_${product}`,
    type: 'api_client',
    product,
    classes: document.products[product]?.allowedClasses ?? [],
    dataSchema: {},
    approvedAt: '2026-01-01T00:00:00.000Z',
    approvedBy: 'key_owner',
    revokedAt: null,
  };
}

/** A context for `action`, with every field at its "nothing claimed" value unless overridden. */
export function gateContext(
  fields: Partial<GateContext> & Pick<GateContext, 'principal' | 'action'>,
): GateContext {
  return {
    integration: integrationFor(fields.principal, (fields.policy ?? SHARED_POLICY).document),
    requestId: 'req_test',
    policy: SHARED_POLICY,
    mode: 'normal',
    product: null,
    class: null,
    name: null,
    contentType: null,
    declaredSize: null,
    meta: {},
    query: {},
    preconditions: { ifNoneMatch: false, ifVersion: null },
    sha256Claim: null,
    writeSlot: true,
    ...fields,
  };
}

/** A stored head version of `product/class/name`. */
export function headVersion(
  product: string,
  classId: string,
  name: string,
  version = 1,
  tombstone = false,
): ArtifactVersion {
  return {
    product,
    class: classId,
    name,
    version,
    sha256: 'a'.repeat(64),
    size: 2,
    contentType: 'application/json',
    meta: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'key_product',
    retention: { mode: 'compliance', until: null },
    tombstone,
    storage: tombstone ? 'none' : 'inline',
  };
}

/** The threat ids a stage's verdict carries. */
export const threatIds = (verdict: StageVerdict) => (verdict.threats ?? []).map((t) => t.id);

/** The rules a stage's refusal names. */
export const rules = (verdict: StageVerdict) => (verdict.deny?.reasons ?? []).map((r) => r.rule);
