/**
 * Stage 0 — the Bucket's mode (SPEC §9): in `read_only` every action of the `write` class is
 * refused, in `halted` everything but the `always` class (the mode and incident routes, audit
 * reads), each with 503 before anything else is decided.
 */
import { modeRefusal } from '../../domain/modes.js';
import { ACTIONS } from '../actions.js';
import { ALLOW, deny, type GateContext, type StageVerdict } from '../context.js';

export function modeStage(ctx: GateContext): StageVerdict {
  const refusal = modeRefusal(ctx.mode, ACTIONS[ctx.action].mode);
  if (refusal === null) return ALLOW;
  return deny(refusal, [
    {
      rule: 'bucket_mode',
      message:
        ctx.mode === 'halted'
          ? `the Bucket is halted: ${ctx.action} is refused until the owner switches it back`
          : `the Bucket is read_only: ${ctx.action} is refused until the owner switches it back`,
    },
  ]);
}
