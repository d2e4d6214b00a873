/** Fastify type augmentation: the authenticated principal and the gate decision of a request. */
import type { Decision } from '../domain/decision.js';
import type { Principal } from '../domain/principal.js';
import type { Action } from '../gate/actions.js';
import type { AllowedAction } from '../services/authorize.js';
import type { BatchReader } from './batch-items.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route's binding to the gate (see http/auth.ts). */
    gateBindings: readonly import('./auth.js').GateBinding[];
    /** The requests the app is answering (http/in-flight.ts). */
    inFlight: import('./in-flight.js').InFlightRequests;
    /** Its route schemas, compiled on first use (http/lazy-schemas.ts). */
    schemas: import('./lazy-schemas.js').LazySchemas;
  }
  interface FastifyRequest {
    principal: Principal | null;
    decision: Decision | null;
    /**
     * The allow of a route bound to an action, until the request is answered: a governance
     * change's pending entry (`entry`, for the route to hand its store) and how the answer ends it.
     */
    allowedAction: AllowedAction | null;
  }
  interface FastifyContextConfig {
    /** Routes that need no key (SPEC §1, §14): /health, /metrics, /openapi.json, /docs, /console. */
    public?: boolean;
    /** The gate decides this action for the route before anything else (and before parsing). */
    action?: Action;
    /**
     * Shed before any work while the event-loop delay is over the latency limit (SPEC §15,
     * http/shed.ts): the artifact routes (and batch and S3 data routes).
     */
    shed?: boolean;
    /**
     * The status of the route's successful answer when it is not 200 (201 for a created key): a
     * change's allow entry records the status its client received.
     */
    answers?: number;
    /**
     * What the entry of the route's allowed decision records beside it (a `governance` member):
     * for a read, what was read of whom (SPEC §8: the subject of an access export).
     */
    entryOf?: (request: FastifyRequest) => Readonly<Record<string, unknown>>;
    /** The route's service decides with the full artifact context (it knows the target). */
    gatedByService?: boolean;
    /**
     * A batch route's item reader, which the route itself uses and which refuses more than
     * `maxBatch` items: certification L4 checks every batch endpoint with it (SPEC §9).
     */
    batchItems?: BatchReader;
  }
}

export {};
