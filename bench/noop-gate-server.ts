/**
 * The Bucket with a no-op gate, for the bench only: the same `startServer` as `bucket serve`, but
 * every decision is an allow made without running the stages. Run as its own process by
 * bench/run.ts (`node --import tsx`), configured like `bucket serve` (BUCKET_DATA_DIR, HOST, PORT,
 * BUCKET_LOG_LEVEL); nothing in `bucket serve` or its configuration can select this gate.
 */
import { randomUUID } from 'node:crypto';
import { configFromEnv } from '../src/config.js';
import { withTargetAndContent, type GateContext } from '../src/gate/context.js';
import { Gate, type GateOutcome, type TargetLoader } from '../src/gate/decide.js';
import { bodyLimitOf } from '../src/gate/stages/limits.js';
import { ACTIONS } from '../src/gate/actions.js';
import { classOperationOf } from '../src/gate/stages/operation.js';
import { startServer } from '../src/server.js';
import { serveUntilSignal } from './lib/bench-server.js';

/**
 * Allows everything with a decision record of the real shape and the real body limit. It still
 * loads the target as the real gate does, because the write path takes the head (the next version
 * number) from it: what this gate leaves out is the six stages and their bookkeeping, not storage.
 */
export class NoopGate extends Gate {
  override async decide(ctx: GateContext, loadTarget?: TargetLoader): Promise<GateOutcome> {
    const target =
      ctx.target === undefined && loadTarget && ACTIONS[ctx.action].needsTarget
        ? await loadTarget()
        : ctx.target;
    return allowed(target === ctx.target ? ctx : withTargetAndContent(ctx, target, ctx.content));
  }

  override decideBody(ctx: GateContext): GateOutcome {
    return allowed(ctx);
  }
}

const NO_THREATS: GateOutcome['earlyThreats'] = Object.freeze([]);

function allowed(ctx: GateContext): GateOutcome {
  return {
    decision: {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation: classOperationOf(ctx) ?? ctx.action,
      principal: {
        id: ctx.principal.id,
        kind: ctx.principal.kind,
        product: ctx.principal.product,
      },
      target: { product: ctx.product, class: ctx.class, name: ctx.name },
      reasons: [],
      threats: [],
      policyVersion: ctx.policy.version,
    },
    code: null,
    bodyLimit: bodyLimitOf(ctx),
    target: ctx.target,
    earlyThreats: NO_THREATS,
  };
}

const config = configFromEnv(process.env);
const server = await startServer(config, { gateInstance: new NoopGate() });
serveUntilSignal(server, 'no-op gate');
