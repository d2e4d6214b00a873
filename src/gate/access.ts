/** Who sees what of the audit log (SPEC §6). Which kinds may use each action: actions.ts. */
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
