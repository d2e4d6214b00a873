/**
 * The fixed stage (SPEC §9): the only stage of the actions marked `fixed` — the owner's mode
 * switch and incident resolution, and the reads of the mode and of incidents. It checks the
 * principal's kind against the action table (code, not policy) and nothing else, so that the
 * owner can always see what happened and stop the Bucket: with a broken policy, or stages that
 * fail.
 */
import { threat } from '../../domain/decision.js';
import { ACTIONS } from '../actions.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

export function fixedStage(ctx: GateContext): StageVerdict {
  const rule = ACTIONS[ctx.action];
  if (rule.kinds.includes(ctx.principal.kind)) return ALLOW;
  return deny(
    'forbidden',
    [
      {
        rule: 'action_access',
        message: `${ctx.principal.kind} keys may not perform ${ctx.action}`,
      },
    ],
    rule.governance
      ? [threat('T4', `${ctx.principal.kind} key on governance action ${ctx.action}`)]
      : [],
  );
}
