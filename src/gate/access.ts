/** Who sees what of the audit log (SPEC §6) and the event bus (SPEC §10). Which kinds may use each action: actions.ts. */
import { PRODUCT_SCOPED_KINDS, type PrincipalKind } from '../domain/principal.js';

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

/**
 * The product a principal's view of the event bus is limited to, undefined for every event: the
 * same readers as the audit log (SPEC §10 — the Workflow Engine's `event_history`, a virtual
 * read-only class like `audit_log`).
 */
export function eventScope(principal: {
  kind: PrincipalKind;
  product: string | null;
}): string | undefined {
  return auditScope(principal);
}
