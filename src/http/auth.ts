/**
 * Bearer-key authentication (SPEC §1) and the route binding to the gate: every route is public,
 * decided by the gate here for its declared action, or decided by its service.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { BucketError } from '../domain/errors.js';
import type { Authorizer } from '../services/authorize.js';
import type { KeyService } from '../services/keys.js';
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
}

export function bindingOf(route: RouteOptions): GateBinding {
  const config = route.config ?? {};
  const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method);
  return {
    method,
    url: route.url,
    binding: config.public ? 'public' : config.action !== undefined ? 'action' : 'service',
    action: config.action ?? null,
  };
}

export function authenticate(keys: KeyService, authorizer: Authorizer) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match?.[1]) {
      throw new BucketError('unauthenticated', 'send "Authorization: Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const principal = await keys.authenticate(match[1]);
    if (!principal) {
      throw new BucketError('unauthenticated', 'the key is unknown, revoked or expired', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }
    request.principal = principal;
    authorizer.assertNotSuspended(principal);
    // Decided before the body is parsed or validated: a caller not allowed gets 403, never 400.
    if (config.action !== undefined) {
      request.decision = (await authorizer.action(requestInfo(request), config.action)).decision;
    }
  };
}
