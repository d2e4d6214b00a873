/**
 * The governance gate: one `decide(context)` for every route (SPEC §4.1). The mode (SPEC §9), then
 * six stages, each a small pure function, run in order; the first denial wins, and every threat
 * found is reported. An exception anywhere in the gate is a denial (fail closed, 503
 * `gate_unavailable`). The owner's off-switch and the mode and incident reads (`fixed` actions) are
 * decided by one fixed stage that reads no policy, so they work when the policy or the other
 * stages do not.
 */
import { randomUUID } from 'node:crypto';
import type { Decision, Reason, Threat } from '../domain/decision.js';
import type { ErrorCode } from '../domain/errors.js';
import type { Operation } from '../domain/policy.js';
import { ACTIONS } from './actions.js';
import {
  withTargetAndContent,
  type GateContext,
  type StageVerdict,
  type TargetState,
} from './context.js';
import { admissionStage } from './stages/admission.js';
import { contentStage } from './stages/content.js';
import { identityStage } from './stages/identity.js';
import { integrationStage } from './stages/integration.js';
import { bodyLimitOf, limitsStage } from './stages/limits.js';
import { modeStage } from './stages/mode.js';
import { classOperationOf, operationStage } from './stages/operation.js';
import { fixedStage } from './stages/fixed.js';

export type Stage = (ctx: GateContext) => StageVerdict;

/** The pipeline in SPEC order. Stages before the lookup must not depend on the target. */
export const STAGES_BEFORE_LOOKUP: readonly [string, Stage][] = [
  ['mode', modeStage],
  ['identity', identityStage],
  ['integration', integrationStage],
  ['admission', admissionStage],
];
export const STAGES_AFTER_LOOKUP: readonly [string, Stage][] = [
  ['operation', operationStage],
  ['content', contentStage],
  ['limits', limitsStage],
];
/** The body phase of a write: the mode again (it may have changed during the upload), then 4–6. */
const STAGES_OF_BODY: readonly [string, Stage][] = [['mode', modeStage], ...STAGES_AFTER_LOOKUP];

/**
 * What the header phase of a request established, which its body phase decides from: the target
 * as looked up, and the threats stages 1–3 found. Stages 1–3 read only what a request says before
 * its body (the key, the action, the address, meta, query and header names), so the body phase
 * runs from stage 4 on, with these threats.
 */
export interface HeaderVerdict {
  /** The target's state the decision was made against (undefined when it needed none). */
  readonly target: TargetState | undefined;
  readonly earlyThreats: readonly Threat[];
}

export interface GateOutcome extends HeaderVerdict {
  readonly decision: Decision;
  /** The error code to answer with when denied. */
  readonly code: ErrorCode | null;
  /** For writes: the most bytes the body may have. */
  readonly bodyLimit: number | null;
}

const NO_THREATS: readonly Threat[] = Object.freeze([]);

export type TargetLoader = () => Promise<TargetState>;

/** The longest the gate waits for the target lookup before it fails closed. */
export const TARGET_LOOKUP_TIMEOUT_MS = 5_000;

/**
 * Deadlines of the lookups in flight, swept by one timer a tenth of the timeout apart, instead
 * of a timer armed and cleared (and a Promise.race) for every lookup: a lookup that hangs fails
 * within 110 % of the timeout.
 */
class Deadlines {
  /**
   * Lookups in flight. A lookup leaves the set as soon as it settles, so that nothing of it
   * outlives its request: kept until the next sweep, its closures lived long enough under load to
   * be promoted to the old generation, and a loop that never yields to timers kept every one.
   */
  private readonly pending = new Set<Deadline>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly ms: number) {}

  within<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline: Deadline = {
        at: Date.now() + this.ms,
        fail: () => reject(new Error(`${what} timed out after ${this.ms} ms`)),
      };
      this.pending.add(deadline);
      if (this.sweeper === null) {
        this.sweeper = setInterval(() => this.sweep(), Math.max(1, this.ms / 10));
        // Never what keeps the process alive.
        this.sweeper.unref();
      }
      promise.then(
        (value) => {
          this.pending.delete(deadline);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(deadline);
          reject(error as Error);
        },
      );
    });
  }

  get size(): number {
    return this.pending.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const deadline of this.pending) {
      if (deadline.at > now) continue;
      this.pending.delete(deadline);
      deadline.fail();
    }
    if (this.pending.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}

interface Deadline {
  readonly at: number;
  readonly fail: () => void;
}

export interface GateOptions {
  /** Test hook: called before each stage; throwing from it simulates a fault in that stage. */
  readonly beforeStage?: (stage: string, ctx: GateContext) => void;
  /**
   * Test hook: rewrites a stage's verdict — a rule or detector switched off, so that the
   * certification's tests see the check of that mechanism fail. No configuration sets it.
   */
  readonly alterVerdict?: (stage: string, verdict: StageVerdict, ctx: GateContext) => StageVerdict;
  /** How long the target lookup may take (TARGET_LOOKUP_TIMEOUT_MS unless a test sets it). */
  readonly targetLookupTimeoutMs?: number;
  /**
   * Why the live policy cannot be decided on (a row edited by hand, services/policies.ts), or
   * null: every decision but the fixed stage's then fails closed.
   */
  readonly policyProblem?: () => string | null;
}

export class Gate {
  private readonly lookups: Deadlines;

  constructor(private readonly options: GateOptions = {}) {
    this.lookups = new Deadlines(options.targetLookupTimeoutMs ?? TARGET_LOOKUP_TIMEOUT_MS);
  }

  /** Target lookups in flight, each until it settles or times out. */
  get lookupsInFlight(): number {
    return this.lookups.size;
  }

  /**
   * Decides `ctx`. `loadTarget` is called only for actions that need the target and only after
   * stages 1–3 allowed, so that nothing about a target leaks to a caller not allowed to know it.
   * The outcome carries what the body phase of the same request needs (HeaderVerdict).
   */
  async decide(ctx: GateContext, loadTarget?: TargetLoader): Promise<GateOutcome> {
    if (ACTIONS[ctx.action].fixed) return this.decideFixed(ctx);
    // The context decided on: `ctx`, then, once looked up, a copy of it with the target.
    let decided = ctx;
    try {
      this.refuseUnusablePolicy();
      const threats: Threat[] = [];
      const early = this.run(STAGES_BEFORE_LOOKUP, ctx, threats);
      if (early.deny) return this.outcome(ctx, early, threats, null, NO_THREATS);
      const earlyThreats = threats.length === 0 ? NO_THREATS : threats.slice();
      if (ctx.target === undefined && loadTarget && ACTIONS[ctx.action].needsTarget) {
        const target = await this.lookups.within(loadTarget(), 'target lookup');
        decided = withTargetAndContent(ctx, target, ctx.content);
      }
      return this.decideAfterLookup(decided, threats, earlyThreats);
    } catch (error) {
      return this.failClosed(decided, error);
    }
  }

  /**
   * Decides the body phase of a request whose header phase allowed: stages 4–6 on `ctx` (the
   * header context with the target and the received content), with the threats stages 1–3 found.
   */
  decideBody(ctx: GateContext, header: HeaderVerdict): GateOutcome {
    try {
      this.refuseUnusablePolicy();
      const threats: Threat[] = [];
      threats.push(...header.earlyThreats);
      return this.decideAfterLookup(ctx, threats, header.earlyThreats, STAGES_OF_BODY);
    } catch (error) {
      return this.failClosed(ctx, error);
    }
  }

  private decideAfterLookup(
    ctx: GateContext,
    threats: Threat[],
    earlyThreats: readonly Threat[],
    stages: readonly [string, Stage][] = STAGES_AFTER_LOOKUP,
  ): GateOutcome {
    let operation: Operation | null = null;
    const late = this.run(stages, ctx, threats, (op) => (operation = op));
    return this.outcome(ctx, late, threats, operation, earlyThreats);
  }

  /**
   * The fixed stage alone (SPEC §9): no test fault, no policy, no lookup — nothing of what may be
   * broken when the owner needs the off-switch.
   */
  private decideFixed(ctx: GateContext): GateOutcome {
    // The mode first (a fixed action of the `always` class passes it in every mode).
    const mode = modeStage(ctx);
    const verdict = mode.deny ? mode : fixedStage(ctx);
    return this.outcome(ctx, verdict, verdict.threats ?? [], null, NO_THREATS);
  }

  private run(
    stages: readonly [string, Stage][],
    ctx: GateContext,
    threats: Threat[],
    onOperation?: (operation: Operation) => void,
  ): StageVerdict {
    for (const [name, stage] of stages) {
      this.options.beforeStage?.(name, ctx);
      const found = stage(ctx);
      const verdict = this.options.alterVerdict?.(name, found, ctx) ?? found;
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
    earlyThreats: readonly Threat[],
  ): GateOutcome {
    const denial = verdict.deny;
    return {
      decision: this.decisionRecord(
        ctx,
        !denial,
        denial?.status ?? 200,
        denial?.reasons ?? [],
        threats,
        operation,
      ),
      code: denial?.code ?? null,
      bodyLimit: bodyLimitOf(ctx),
      target: ctx.target,
      earlyThreats,
    };
  }

  private refuseUnusablePolicy(): void {
    const problem = this.options.policyProblem?.() ?? null;
    if (problem !== null) throw new Error(problem);
  }

  private failClosed(ctx: GateContext, error: unknown): GateOutcome {
    const message = error instanceof Error ? error.message : String(error);
    return {
      decision: this.decisionRecord(
        ctx,
        false,
        503,
        [{ rule: 'gate_failure', message: `the gate failed: ${message}` }],
        [],
        null,
      ),
      code: 'gate_unavailable',
      bodyLimit: null,
      target: undefined,
      earlyThreats: NO_THREATS,
    };
  }

  /** The decision record of SPEC §4.3 (the ledger records it; this only builds it). */
  private decisionRecord(
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
