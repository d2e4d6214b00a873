/**
 * The fixed owner-only stage (SPEC §9): the only stage of the actions marked `fixedOwnerOnly` (the
 * mode switch, an incident's resolution). It reads the principal and nothing of the policy, so
 * that the owner can always stop the Bucket — with a broken policy, or stages that fail.
 */
import { threat } from '../../domain/decision.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

export function ownerOnlyStage(ctx: GateContext): StageVerdict {
  if (ctx.principal.kind === 'owner') return ALLOW;
  return deny(
    'forbidden',
    [{ rule: 'owner_only', message: `only the owner may perform ${ctx.action}` }],
    [threat('T4', `${ctx.principal.kind} key on governance action ${ctx.action}`)],
  );
}
