/**
 * Stage 2 — integration (SPEC §4.1): product and ai_agent keys act through an approved integration,
 * only on the classes it declared (T4). Integrations are not modelled yet, so every key passes;
 * the gate issue fills this stage in without changing its place in the pipeline.
 */
import { ALLOW, type GateContext, type StageVerdict } from '../context.js';

export function integrationStage(_ctx: GateContext): StageVerdict {
  return ALLOW;
}
