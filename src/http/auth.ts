/**
 * Bearer-key authentication (SPEC §1) and the route binding to the gate: every route is public,
 * decided by the gate here for its declared action, or decided by its service.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { threat } from '../domain/decision.js';
import type { RouteBinding } from '../domain/drift.js';
import { ACTIONS, type Action } from '../gate/actions.js';
import { BucketError } from '../domain/errors.js';
import { BRUTE_FORCE } from '../domain/threats.js';
import { limiterUnavailable } from '../services/artifacts/deps.js';
import type { Authorizer } from '../services/authorize.js';
import type { KeyService } from '../services/keys.js';
import type { ThreatService } from '../services/threats.js';
import type { Limiter } from '../storage/ports.js';
import type { BatchReader } from './batch-items.js';
import { requestInfo } from './request.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Throws at start-up for a route that is not bound to the gate: there is no side door. */
export function assertGateBinding(route: RouteOptions): void {
  const config = route.config ?? {};
  const bindings = [config.public, config.action !== undefined, config.gatedByService].filter(
    Boolean,
  );
  if (bindings.length !== 1) {
    throw new Error(
      `route ${String(route.method)} ${route.url} must be exactly one of: public, ` +
        'bound to a gate action, or gated by its service',
    );
  }
}

/** How one registered route is bound to the gate. */
export interface GateBinding {
  readonly method: string;
  readonly url: string;
  readonly binding: 'public' | 'action' | 'service';
  readonly action: string | null;
  /** A batch route's item reader (certification L4 feeds it one item over the limit). */
  readonly batchItems?: BatchReader;
}

export function bindingOf(route: RouteOptions): GateBinding {
  const config = route.config ?? {};
  const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method);
  return {
    method,
    url: route.url,
    binding: config.public ? 'public' : config.action !== undefined ? 'action' : 'service',
    action: config.action ?? null,
    ...(config.batchItems ? { batchItems: config.batchItems } : {}),
  };
}

/** The route table drift compares (SPEC §9): each route's binding with its action's rule. */
export function routeTable(bindings: readonly GateBinding[]): RouteBinding[] {
  return bindings.map((binding) => ({
    ...binding,
    rule:
      binding.action !== null && Object.hasOwn(ACTIONS, binding.action)
        ? ACTIONS[binding.action as Action]
        : null,
  }));
}

/**
 * A failing key (unknown, revoked, expired): 401, or 429 while its address is in a brute-force
 * cooldown (SPEC §5 T1). Valid keys never get here, so a cooldown never locks them out.
 */
async function refuseFailingKey(
  request: FastifyRequest,
  limiter: Limiter,
  threats: ThreatService,
): Promise<never> {
  // Unable to count the failure (the limiter does not answer), the cooldown cannot be decided.
  const verdict = await limiter
    .recordAuthFailure(request.ip, BRUTE_FORCE)
    .catch(limiterUnavailable);
  if (verdict.tripped) {
    await threats.recordAnonymous(
      request.id,
      threat(
        'T1',
        `${BRUTE_FORCE.failures} failed authentications from ${request.ip} within ` +
          `${BRUTE_FORCE.windowMs / 1000} s`,
      ),
    );
  } else if (verdict.blockedForMs > 0) {
    const seconds = Math.ceil(verdict.blockedForMs / 1000);
    throw new BucketError(
      'rate_limited',
      `too many failed authentications from this address; failing keys are refused for ${seconds} s`,
      { headers: { 'retry-after': String(seconds) } },
    );
  }
  throw new BucketError('unauthenticated', 'the key is unknown, revoked or expired', {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });
}

export function authenticate(
  keys: KeyService,
  authorizer: Authorizer,
  limiter: Limiter,
  threats: ThreatService,
  /** Bucket.freshen: another process's governance changes, loaded before this request's. */
  freshen: () => Promise<void> | undefined = () => undefined,
) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const fresh = freshen();
    if (fresh) await fresh;
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match?.[1]) {
      throw new BucketError('unauthenticated', 'send "Authorization: Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const principal = await keys.authenticate(match[1]);
    if (!principal) return refuseFailingKey(request, limiter, threats);
    request.principal = principal;
    authorizer.assertNotSuspended(principal);
    // Decided before the body is parsed or validated: a caller not allowed gets 403, never 400.
    if (config.action !== undefined) {
      const allowed = await authorizer.action(
        requestInfo(request),
        config.action,
        config.answers,
        config.entryOf?.(request),
      );
      request.decision = allowed.decision;
      request.allowedAction = allowed;
    }
  };
}
