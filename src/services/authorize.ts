/**
 * The one way services consult the gate: building gate contexts, deciding, handing every decision
 * to the ledger (SPEC §6), and turning denials into errors.
 */
import type { Decision } from '../domain/decision.js';
import { BucketError } from '../domain/errors.js';
import { retryAfterSeconds } from '../domain/rates.js';
import type { Principal } from '../domain/principal.js';
import { ACTIONS, type Action } from '../gate/actions.js';
import type { GateContext, Preconditions } from '../gate/context.js';
import type { Gate, GateOutcome, HeaderVerdict, TargetLoader } from '../gate/decide.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { ChangeEntry } from '../storage/ports.js';
import type { AuditLedger } from './ledger.js';
import type { PolicyService } from './policies.js';

/**
 * What the authorizer consults and feeds besides the gate: integrations as they stand, key
 * suspensions, and every outcome (decision counts, threat records, escalation).
 */
export interface GateObserver {
  integrationOf(id: string | null): IntegrationRecord | null;
  isSuspended(principalId: string): boolean;
  /** Returns a promise only when it has something to store (threats), so the common path stays sync. */
  observe(ctx: GateContext, outcome: GateOutcome): Promise<void> | undefined;
}

export interface RequestInfo {
  readonly requestId: string;
  readonly principal: Principal;
  readonly query?: Readonly<Record<string, string>>;
  readonly headerNames?: readonly string[];
}

export type ContextFields = Partial<
  Omit<GateContext, 'requestId' | 'principal' | 'action' | 'policy'>
>;

const NO_META: Readonly<Record<string, string>> = Object.freeze({});
const NO_PRECONDITIONS: Preconditions = Object.freeze({ ifNoneMatch: false, ifVersion: null });

/** The decision of a route bound to an action, with the pending entry of an allowed change. */
export interface ActionDecision {
  readonly decision: Decision;
  /** For an action whose effect is `change`: the allow entry its store appends (SPEC §6). */
  readonly pending: ChangeEntry | null;
}

export class Authorizer {
  constructor(
    private readonly gate: Gate,
    private readonly policies: PolicyService,
    private readonly observer?: GateObserver,
    /** Where decisions are recorded: absent only in gate-only tests. */
    private readonly ledger?: AuditLedger,
  ) {}

  /** SPEC §5: a suspended key is refused before anything of its request is decided. */
  assertNotSuspended(principal: Principal): void {
    if (this.observer?.isSuspended(principal.id)) {
      const id = principal.id;
      throw new BucketError(
        'principal_suspended',
        `this key (${id}) is suspended after repeated critical threats; the owner can lift it ` +
          `with \`bucket keys reinstate ${id}\` (POST /v1/keys/${id}/reinstate)`,
        { details: { keyId: id } },
      );
    }
  }

  /**
   * The context of `action` for this request, every field present in one order (the order of
   * `withTargetAndContent`, gate/context.ts), so that all contexts share one hidden class.
   */
  context(request: RequestInfo, action: Action, fields: ContextFields = {}): GateContext {
    return {
      requestId: request.requestId,
      principal: request.principal,
      action,
      policy: this.policies.current(),
      product: fields.product ?? null,
      class: fields.class ?? null,
      name: fields.name ?? null,
      contentType: fields.contentType ?? null,
      declaredSize: fields.declaredSize ?? null,
      meta: fields.meta ?? NO_META,
      query: fields.query ?? request.query ?? NO_META,
      headerNames: fields.headerNames ?? request.headerNames ?? [],
      preconditions: fields.preconditions ?? NO_PRECONDITIONS,
      sha256Claim: fields.sha256Claim ?? null,
      target: fields.target,
      content: fields.content,
      writeSlot: fields.writeSlot,
      usage: fields.usage,
      rate: fields.rate,
      integration:
        fields.integration !== undefined
          ? fields.integration
          : (this.observer?.integrationOf(request.principal.integrationId) ?? null),
    };
  }

  /**
   * Decides `ctx` and records the decision now, allowed or denied; throws a denial as a
   * BucketError carrying its decision. For what changes nothing, and for checks made beside a
   * change (a product key's validation for its own product).
   */
  async authorize(ctx: GateContext, loadTarget?: TargetLoader): Promise<GateOutcome> {
    const outcome = await this.gate.decide(ctx, loadTarget);
    const concluding = this.conclude(ctx, outcome, true);
    if (concluding) await concluding;
    return outcome;
  }

  /**
   * Decides a change (an artifact write, tombstone or restore): a denial is recorded and thrown;
   * the allow is not recorded here — the change appends its entry in its own transaction.
   */
  async authorizeChange(ctx: GateContext, loadTarget?: TargetLoader): Promise<GateOutcome> {
    const outcome = await this.gate.decide(ctx, loadTarget);
    const concluding = this.conclude(ctx, outcome, false);
    if (concluding) await concluding;
    return outcome;
  }

  /**
   * The body phase of a write whose header phase allowed (`header`): stages 4–6 on `ctx`, the
   * header context with the target and the received content. Recorded like `authorizeChange`.
   */
  async authorizeBody(ctx: GateContext, header: HeaderVerdict): Promise<GateOutcome> {
    const outcome = this.gate.decideBody(ctx, header);
    const concluding = this.conclude(ctx, outcome, false);
    if (concluding) await concluding;
    return outcome;
  }

  /**
   * For routes bound to an action (no target): may this principal perform it at all? The allow of
   * a change is returned pending, for its store to append; any other decision is recorded now.
   */
  async action(request: RequestInfo, action: Action): Promise<ActionDecision> {
    const ctx = this.context(request, action);
    const outcome = await this.gate.decide(ctx);
    const change = ACTIONS[action].effect === 'change';
    const concluding = this.conclude(ctx, outcome, !change);
    if (concluding) await concluding;
    const { decision } = outcome;
    return {
      decision,
      pending: change && this.ledger ? this.ledger.pending(decision, request.requestId) : null,
    };
  }

  /**
   * Feeds the observer, records the decision (an allow only when `recordAllow`) and throws a
   * denial. Returns a promise only when there is something to wait for, so that the common path
   * of a change — allowed, no threats — stays synchronous.
   */
  private conclude(
    ctx: GateContext,
    outcome: GateOutcome,
    recordAllow: boolean,
  ): Promise<void> | undefined {
    const stored = this.observer?.observe(ctx, outcome);
    const recording = this.ledger !== undefined && (!outcome.decision.allow || recordAllow);
    if (stored === undefined && !recording && outcome.decision.allow) return undefined;
    return this.concludeAfter(ctx, outcome, stored, recording);
  }

  private async concludeAfter(
    ctx: GateContext,
    outcome: GateOutcome,
    stored: Promise<void> | undefined,
    recording: boolean,
  ): Promise<void> {
    if (stored) await stored;
    const { decision } = outcome;
    if (recording) await this.ledger?.record({ decision, requestId: ctx.requestId });
    if (!decision.allow) throw denialError(outcome, retryAfterOf(ctx, outcome));
  }
}

export function denialError(outcome: GateOutcome, headers?: Record<string, string>): BucketError {
  const { decision } = outcome;
  const message = decision.reasons.map((reason) => reason.message).join('; ') || undefined;
  return new BucketError(outcome.code ?? 'forbidden', message, {
    decision,
    status: decision.status,
    ...(headers ? { headers } : {}),
  });
}

/** A rate denial tells the client when to come back (SPEC §2.3: 429 + `Retry-After`). */
function retryAfterOf(ctx: GateContext, outcome: GateOutcome): Record<string, string> | undefined {
  if (outcome.code !== 'rate_limited') return undefined;
  // A refused write slot frees within a request's time; a refused rate when its window reopens.
  const ms = ctx.rate && !ctx.rate.allowed ? ctx.rate.retryAfterMs : 1000;
  return { 'retry-after': String(retryAfterSeconds(ms)) };
}
