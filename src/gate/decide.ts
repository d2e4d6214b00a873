/**
 * The governance gate: one `decide(context)` for every route (SPEC §4.1). Six stages, each a small
 * pure function, run in order; the first denial wins, and every threat found is reported. An
 * exception anywhere in the gate is a denial (fail closed, 503 `gate_unavailable`).
 */
import { randomUUID } from 'node:crypto';
import type { Decision, Reason, Threat } from '../domain/decision.js';
import type { ErrorCode } from '../domain/errors.js';
import type { Operation } from '../domain/policy.js';
import type { GateContext, StageVerdict, TargetState } from './context.js';
import { admissionStage } from './stages/admission.js';
import { contentStage } from './stages/content.js';
import { identityStage } from './stages/identity.js';
import { integrationStage } from './stages/integration.js';
import { bodyLimitOf, limitsStage } from './stages/limits.js';
import { classOperationOf, operationStage, TARGET_ACTIONS } from './stages/operation.js';

export type Stage = (ctx: GateContext) => StageVerdict;

/** The pipeline in SPEC order. Stages before the lookup must not depend on the target. */
export const STAGES_BEFORE_LOOKUP: readonly [string, Stage][] = [
  ['identity', identityStage],
  ['integration', integrationStage],
  ['admission', admissionStage],
];
export const STAGES_AFTER_LOOKUP: readonly [string, Stage][] = [
  ['operation', operationStage],
  ['content', contentStage],
  ['limits', limitsStage],
];

export interface GateOutcome {
  readonly decision: Decision;
  /** The error code to answer with when denied. */
  readonly code: ErrorCode | null;
  /** For writes: the most bytes the body may have. */
  readonly bodyLimit: number | null;
}

export type TargetLoader = () => Promise<TargetState>;

/** The longest the gate waits for the target lookup before it fails closed. */
export const TARGET_LOOKUP_TIMEOUT_MS = 5_000;

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface GateOptions {
  /** Test hook: called before each stage; throwing from it simulates a fault in that stage. */
  readonly beforeStage?: (stage: string, ctx: GateContext) => void;
}

export class Gate {
  constructor(private readonly options: GateOptions = {}) {}

  /**
   * Decides `ctx`. `loadTarget` is called only for actions that need the target and only after
   * stages 1–3 allowed, so that nothing about a target leaks to a caller not allowed to know it.
   */
  async decide(ctx: GateContext, loadTarget?: TargetLoader): Promise<GateOutcome> {
    try {
      const threats: Threat[] = [];
      let operation: Operation | null = null;
      const early = this.run(STAGES_BEFORE_LOOKUP, ctx, threats);
      if (early.deny) return this.outcome(ctx, early, threats, null);
      if (ctx.target === undefined && loadTarget && TARGET_ACTIONS.has(ctx.action)) {
        ctx.target = await withTimeout(loadTarget(), TARGET_LOOKUP_TIMEOUT_MS, 'target lookup');
      }
      const late = this.run(STAGES_AFTER_LOOKUP, ctx, threats, (op) => (operation = op));
      return this.outcome(ctx, late, threats, operation);
    } catch (error) {
      return this.failClosed(ctx, error);
    }
  }

  private run(
    stages: readonly [string, Stage][],
    ctx: GateContext,
    threats: Threat[],
    onOperation?: (operation: Operation) => void,
  ): StageVerdict {
    for (const [name, stage] of stages) {
      this.options.beforeStage?.(name, ctx);
      const verdict = stage(ctx);
      if (verdict.threats) threats.push(...verdict.threats);
      if (verdict.operation) onOperation?.(verdict.operation);
      if (verdict.deny) return verdict;
    }
    return {};
  }

  private outcome(
    ctx: GateContext,
    verdict: StageVerdict,
    threats: Threat[],
    operation: Operation | null,
  ): GateOutcome {
    const denial = verdict.deny;
    return {
      decision: this.record(
        ctx,
        !denial,
        denial?.status ?? 200,
        denial?.reasons ?? [],
        threats,
        operation,
      ),
      code: denial?.code ?? null,
      bodyLimit: bodyLimitOf(ctx),
    };
  }

  private failClosed(ctx: GateContext, error: unknown): GateOutcome {
    const message = error instanceof Error ? error.message : String(error);
    return {
      decision: this.record(
        ctx,
        false,
        503,
        [{ rule: 'gate_failure', message: `the gate failed: ${message}` }],
        [],
        null,
      ),
      code: 'gate_unavailable',
      bodyLimit: null,
    };
  }

  private record(
    ctx: GateContext,
    allow: boolean,
    status: number,
    reasons: Reason[],
    threats: Threat[],
    operation: Operation | null,
  ): Decision {
    return {
      id: randomUUID(),
      allow,
      status,
      operation: operation ?? classOperationOf(ctx) ?? ctx.action,
      principal: {
        id: ctx.principal.id,
        kind: ctx.principal.kind,
        product: ctx.principal.product,
      },
      target: { product: ctx.product, class: ctx.class, name: ctx.name },
      reasons,
      threats,
      policyVersion: ctx.policy.version,
    };
  }
}
