/**
 * The one way services consult the gate: building gate contexts, deciding, handing every decision
 * to the ledger (SPEC §6), and turning denials into errors. This module is the ledger's only
 * caller: services and routes end a request's decision through it (`settleChange`,
 * `AllowedAction`), never through the ledger.
 */
import type { Decision } from '../domain/decision.js';
import { BucketError } from '../domain/errors.js';
import { retryAfterSeconds } from '../domain/rates.js';
import type { Principal } from '../domain/principal.js';
import { ACTIONS, type Action } from '../gate/actions.js';
import type { GateContext, Preconditions } from '../gate/context.js';
import type { Gate, GateOutcome, HeaderVerdict, TargetLoader } from '../gate/decide.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { Mode } from '../domain/modes.js';
import type { ChangeEntry } from '../storage/ports.js';
import type { GovernanceChangeRecord } from '../audit/entry.js';
import type { AuditLedger } from './ledger.js';
import type { PolicyService } from './policies.js';

/**
 * What the authorizer consults and feeds besides the gate: integrations as they stand, key
 * suspensions, and every outcome (decision counts, threat records, escalation).
 */
export interface GateObserver {
  integrationOf(product: string | null, id: string | null): IntegrationRecord | null;
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
const NORMAL = (): Mode => 'normal';
const NO_PRECONDITIONS: Preconditions = Object.freeze({ ifNoneMatch: false, ifVersion: null });

/**
 * The allow of a route bound to an action, until its request is answered (SPEC §6). The allow of a
 * change is left pending in `entry`, for the change's store to append in its own transaction; the
 * answer then ends it: `finish` records the entry the store did not append (the change changed
 * nothing), `fail` records the failure the request answers with instead.
 */
export class AllowedAction {
  private ended = false;

  constructor(
    private readonly ledger: AuditLedger | undefined,
    readonly decision: Decision,
    private readonly requestId: string,
    /** For an action whose effect is `change`: the allow entry its store appends. */
    readonly entry: ChangeEntry | null,
  ) {}

  /** Whether `finish` has an entry to record: a change whose store did not append it. */
  get unappended(): boolean {
    return !this.ended && this.entry !== null && this.entry.receipt === null;
  }

  /** Records the change's entry if its store did not append it; at most once. */
  async finish(): Promise<void> {
    const entry = this.entry;
    if (!this.unappended || !entry || !this.ledger) return;
    this.ended = true;
    entry.receipt = await this.ledger.record(entry.draft);
  }

  /**
   * The request failed after its allow (a key that does not exist, a body that does not
   * validate): its failure is recorded instead of the pending entry, unless the error is a denial,
   * which has its own entry. Never throws: the error is the answer.
   */
  async fail(error: unknown): Promise<void> {
    this.ended = true;
    await this.ledger?.recordFailure(this.decision, this.requestId, error);
  }
}

/** Told of every decision `Authorizer` concludes, with its request's id (http/in-flight.ts). */
export type DecisionListener = (requestId: string, decision: Decision) => void;

export class Authorizer {
  private readonly listeners = new Set<DecisionListener>();

  constructor(
    private readonly gate: Gate,
    private readonly policies: PolicyService,
    private readonly observer?: GateObserver,
    /** Where decisions are recorded: absent only in gate-only tests. */
    private readonly ledger?: AuditLedger,
    /** The Bucket's mode as this node knows it (in memory: services/modes.ts). */
    private readonly mode: () => Mode = NORMAL,
  ) {}

  /** Tells `listener` of every decision from now on, until the returned function is called. */
  onDecision(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

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
      policy: this.policies.unchecked(),
      mode: this.mode(),
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
          : (this.observer?.integrationOf(
              request.principal.product,
              request.principal.integrationId,
            ) ?? null),
      retentionChange: fields.retentionChange,
      uploadBytes: fields.uploadBytes,
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
    // The mode may have changed while the body arrived: the body phase decides on the current one.
    const mode = this.mode();
    const current = ctx.mode === mode ? ctx : { ...ctx, mode };
    const outcome = this.gate.decideBody(current, header);
    const concluding = this.conclude(current, outcome, false);
    if (concluding) await concluding;
    return outcome;
  }

  /**
   * Awaits `change`, the change `allowed` let through (a write, tombstone or restore, which appends
   * its own entry); if it fails, its failure is recorded before the error goes on, so the log
   * never reads as if it happened.
   */
  async settleChange<T>(allowed: Decision, requestId: string, change: Promise<T>): Promise<T> {
    try {
      return await change;
    } catch (error) {
      await this.ledger?.recordFailure(allowed, requestId, error);
      throw error;
    }
  }

  /**
   * For routes bound to an action (no target): may this principal perform it at all? A denial is
   * recorded and thrown. The allow of a change is left pending, its entry recording `answers`,
   * the status its client receives when it is not 200; any other allow is recorded now.
   */
  async action(
    request: RequestInfo,
    action: Action,
    answers?: number,
    governance?: GovernanceChangeRecord,
  ): Promise<AllowedAction> {
    const ctx = this.context(request, action);
    const outcome = await this.gate.decide(ctx);
    const change = ACTIONS[action].effect === 'change';
    const concluding = this.conclude(ctx, outcome, !change, governance);
    if (concluding) await concluding;
    const { decision } = outcome;
    const entry =
      change && this.ledger
        ? this.ledger.pendingEntry(
            answers === undefined ? decision : { ...decision, status: answers },
            request.requestId,
          )
        : null;
    return new AllowedAction(this.ledger, decision, request.requestId, entry);
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
    governance?: GovernanceChangeRecord,
  ): Promise<void> | undefined {
    for (const listener of this.listeners) listener(ctx.requestId, outcome.decision);
    const stored = this.observer?.observe(ctx, outcome);
    const recording = this.ledger !== undefined && (!outcome.decision.allow || recordAllow);
    if (stored === undefined && !recording && outcome.decision.allow) return undefined;
    return this.concludeAfter(ctx, outcome, stored, recording, governance);
  }

  private async concludeAfter(
    ctx: GateContext,
    outcome: GateOutcome,
    stored: Promise<void> | undefined,
    recording: boolean,
    governance?: GovernanceChangeRecord,
  ): Promise<void> {
    if (stored) await stored;
    const { decision } = outcome;
    if (recording) {
      await this.ledger?.record({
        decision,
        requestId: ctx.requestId,
        ...(governance === undefined ? {} : { governance }),
      });
    }
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
