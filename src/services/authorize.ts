/** Building gate contexts and turning denials into errors: the one way services consult the gate. */
import { BucketError } from '../domain/errors.js';
import { retryAfterSeconds } from '../domain/rates.js';
import type { Principal } from '../domain/principal.js';
import type { Action } from '../gate/actions.js';
import { gateContext, type GateContext, type Preconditions } from '../gate/context.js';
import type { Gate, GateOutcome, TargetLoader } from '../gate/decide.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { PolicyService } from './policies.js';
import type { AuditDraft, AuditReceipt } from '../audit/entry.js';

/** Where decisions are recorded (SPEC §6): the audit service, or nothing in gate-only tests. */
export interface DecisionRecorder {
  record(draft: AuditDraft): Promise<AuditReceipt | null>;
}

export interface RequireOptions {
  /**
   * An allowed decision whose entry the caller records itself, in the transaction of the change
   * it authorizes (an artifact write): only a denial is recorded here.
   */
  readonly defer?: boolean;
}

/** A decision that allowed, with the receipt of its audit entry when one was recorded. */
export type Authorized = GateOutcome & { readonly receipt: AuditReceipt | null };

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

export class Authorizer {
  constructor(
    private readonly gate: Gate,
    private readonly policies: PolicyService,
    private readonly observer?: GateObserver,
    private readonly recorder?: DecisionRecorder,
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

  context(request: RequestInfo, action: Action, fields: ContextFields = {}): GateContext {
    return gateContext({
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
    });
  }

  /**
   * Decides `ctx` and records the decision in the audit log (unless deferred); throws the denial
   * as a BucketError carrying its decision.
   */
  async require(
    ctx: GateContext,
    loadTarget?: TargetLoader,
    options: RequireOptions = {},
  ): Promise<Authorized> {
    const outcome = await this.gate.decide(ctx, loadTarget);
    const stored = this.observer?.observe(ctx, outcome);
    if (stored) await stored;
    const { decision } = outcome;
    const receipt =
      this.recorder && (!decision.allow || !options.defer)
        ? await this.recorder.record({ decision, requestId: ctx.requestId })
        : null;
    if (!decision.allow) throw denialError(outcome, retryAfterOf(ctx, outcome));
    return { decision, code: outcome.code, bodyLimit: outcome.bodyLimit, receipt };
  }

  /** For routes with no target: may this principal perform `action` at all? */
  async action(
    request: RequestInfo,
    action: Action,
    options: RequireOptions = {},
  ): Promise<Authorized> {
    return this.require(this.context(request, action), undefined, options);
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
