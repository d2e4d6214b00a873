/** Stage 1 — identity and isolation (SPEC §4.1): who may use the action, and only on their own namespace. */
import { threat, type Threat } from '../../domain/decision.js';
import { PRODUCT_SCOPED_KINDS } from '../../domain/principal.js';
import { ACTION_ACCESS, GOVERNANCE_ACTIONS } from '../access.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

/** Request fields through which a client could claim an identity (SPEC §1). */
const IDENTITY_CLAIMS = ['product', 'product_id', 'productId', 'owner_id'];

function claimThreats(ctx: GateContext, ownProduct: string): Threat[] {
  const threats: Threat[] = [];
  for (const [source, fields] of [
    ['x-bucket-meta-', ctx.meta],
    ['query ', ctx.query],
  ] as const) {
    for (const claim of IDENTITY_CLAIMS) {
      const value = fields[claim.toLowerCase()] ?? fields[claim];
      if (value !== undefined && value !== ownProduct) {
        threats.push(threat('T1', `${source}${claim} claims product "${value}"`));
      }
    }
  }
  return threats;
}

export function identityStage(ctx: GateContext): StageVerdict {
  const { principal, action } = ctx;
  const scoped = PRODUCT_SCOPED_KINDS.has(principal.kind);
  if (!ACTION_ACCESS[action].includes(principal.kind)) {
    const threats =
      scoped && GOVERNANCE_ACTIONS.has(action)
        ? [threat('T4', `${principal.kind} key on governance action ${action}`)]
        : [];
    return deny(
      403,
      'forbidden',
      [{ rule: 'action_access', message: `${principal.kind} keys may not perform ${action}` }],
      threats,
    );
  }
  if (!scoped) return ALLOW;
  const ownProduct = principal.product ?? '';
  if (ctx.product !== null && ctx.product !== ownProduct) {
    // Refused before any lookup: the answer is the same whether or not the target exists.
    return deny(
      403,
      'forbidden',
      [{ rule: 'product_isolation', message: `this key acts only on product "${ownProduct}"` }],
      [threat('T1', `${principal.kind} key of "${ownProduct}" on namespace "${ctx.product}"`)],
    );
  }
  const claims = claimThreats(ctx, ownProduct);
  if (claims.length > 0) {
    return deny(
      403,
      'forbidden',
      [{ rule: 'identity_claim', message: 'identity comes only from the key' }],
      claims,
    );
  }
  return ALLOW;
}
