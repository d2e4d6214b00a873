/** Which principal kinds may use each action at all (SPEC §1 table), before anything else. */
import { PRINCIPAL_KINDS, PRODUCT_SCOPED_KINDS, type PrincipalKind } from '../domain/principal.js';
import type { Action } from './context.js';

const ALL: readonly PrincipalKind[] = PRINCIPAL_KINDS;
const NAMESPACE_WRITERS: readonly PrincipalKind[] = ['product', 'ai_agent', 'core'];
const CONTENT_READERS: readonly PrincipalKind[] = ['owner', 'product', 'ai_agent', 'core'];

export const ACTION_ACCESS: Readonly<Record<Action, readonly PrincipalKind[]>> = {
  'artifact.write': NAMESPACE_WRITERS,
  'artifact.delete': NAMESPACE_WRITERS,
  // The owner may undo a tombstone (recovery); the product's own writers may too.
  'artifact.restore': ['owner', ...NAMESPACE_WRITERS],
  // Auditors and executors read metadata, never content (SPEC §1).
  'artifact.read': CONTENT_READERS,
  'artifact.head': ALL,
  'artifact.versions': ALL,
  'artifact.list': ALL,
  'keys.create': ['owner'],
  'keys.list': ['owner'],
  'keys.revoke': ['owner'],
  'policy.update': ['owner'],
  // Like the live policy, its history is readable by every key (SPEC §4.2: governance GETs).
  'policy.versions': ALL,
  'policy.read': ALL,
  // SPEC §4.2: product keys may call the two validate endpoints (for their own product) and the
  // four gate GETs; every other governance route is closed to product and ai_agent keys.
  'integrations.validate': ['owner', 'executor', 'product'],
  'gate.validate_operation': ['owner', 'executor', 'product'],
  'gate.read': ['owner', 'executor', 'auditor', 'product'],
  'integrations.list': ['owner', 'executor', 'auditor'],
  'integrations.read': ['owner', 'executor', 'auditor'],
  'integrations.revoke': ['owner'],
  'threats.read': ['owner', 'executor', 'auditor'],
  'keys.reinstate': ['owner'],
  // Every key reads the log; a namespace key sees only what concerns its product (SPEC §6).
  'audit.read': ALL,
  'audit.export': ['owner', 'executor', 'auditor', 'product'],
};

/** Products whose keys read the whole audit log, like owner, executor and auditor (SPEC §6). */
export const AUDIT_FULL_READER_PRODUCTS: ReadonlySet<string> = new Set(['workflow_engine']);

/** The product a principal's view of the audit log is limited to; undefined for the whole log. */
export function auditScope(principal: {
  kind: PrincipalKind;
  product: string | null;
}): string | undefined {
  if (!PRODUCT_SCOPED_KINDS.has(principal.kind)) return undefined;
  if (principal.product !== null && AUDIT_FULL_READER_PRODUCTS.has(principal.product)) {
    return undefined;
  }
  // A namespace key without a product sees nothing: no product has this name.
  return principal.product ?? '\u0000';
}

/** Actions that are governance or key administration (T4 when a namespace principal tries). */
export const GOVERNANCE_ACTIONS: ReadonlySet<Action> = new Set([
  'policy.update',
  'keys.create',
  'keys.list',
  'keys.revoke',
  'keys.reinstate',
  'integrations.validate',
  'integrations.list',
  'integrations.read',
  'integrations.revoke',
  'gate.validate_operation',
  'gate.read',
  'threats.read',
]);
