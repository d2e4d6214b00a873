/**
 * No side door (issue 3, SPEC §4.1): every registered route is bound to the gate — public, a gate
 * action known to the access table, or decided by its service — and every non-public route
 * refuses a request without a key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, type Bucket } from '../../../src/bucket.js';
import { configFromEnv } from '../../../src/config.js';
import { ACTION_NAMES, ACTIONS } from '../../../src/gate/actions.js';
import { buildApp, type App } from '../../../src/http/app.js';
import { assertGateBinding } from '../../../src/http/auth.js';
import { createLogger } from '../../../src/server.js';

/** The only routes that need no key (SPEC §1, and the console's static files, §14). */
const PUBLIC = [
  /^\/health$/,
  /^\/metrics$/,
  /^\/openapi\.json$/,
  /^\/docs(\/|$)/,
  /^\/console(\/|$)/,
];

describe('route binding', () => {
  let dataDir: string;
  let bucket: Bucket;
  let app: App;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bucket-routes-'));
    // The loop is the test runner's, and injected requests never yield it: no shedding (SPEC §15).
    bucket = await createBucket(configFromEnv({ BUCKET_DATA_DIR: dataDir }), {
      eventLoopDelayMs: () => 0,
    });
    app = await buildApp(bucket, createLogger('silent'));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await bucket?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('compiles every route schema it registered (built on first use, decision 0070)', () => {
    expect(app.schemas.compileAll()).toBeGreaterThan(100);
  });

  it('binds every registered route to the gate', () => {
    expect(app.gateBindings.length).toBeGreaterThan(20);
    for (const route of app.gateBindings) {
      const label = `${route.method} ${route.url}`;
      if (route.binding === 'public') {
        expect(
          PUBLIC.some((pattern) => pattern.test(route.url)),
          `${label} is public`,
        ).toBe(true);
      } else if (route.binding === 'action') {
        expect(ACTION_NAMES as readonly string[], label).toContain(route.action);
        expect(ACTIONS[route.action as keyof typeof ACTIONS].kinds, label).not.toHaveLength(0);
      } else {
        expect(route.url, `${label} is gated by its service`).toMatch(/^\/v1\/artifacts\//);
      }
    }
  });

  it('binds the integration, gate, threat and reinstate routes to gate actions', () => {
    const bound = new Map(app.gateBindings.map((r) => [`${r.method} ${r.url}`, r.action]));
    expect(Object.fromEntries(bound)).toMatchObject({
      'POST /governance/gate/validate-integration': 'integrations.validate',
      'POST /governance/gate/validate-operation': 'gate.validate_operation',
      'GET /governance/gate/scale-limits': 'gate.read',
      'GET /governance/gate/product-rules': 'gate.read',
      'GET /governance/gate/operation-rules': 'gate.read',
      'GET /governance/gate/status': 'gate.read',
      'GET /v1/integrations': 'integrations.list',
      'GET /v1/integrations/:id': 'integrations.read',
      'DELETE /v1/integrations/:id': 'integrations.revoke',
      'GET /v1/governance/threats': 'threats.read',
      'POST /v1/keys/:id/reinstate': 'keys.reinstate',
    });
  });

  it('answers 401 without a key on every route that is not public', async () => {
    for (const route of app.gateBindings) {
      if (route.binding === 'public') continue;
      for (const method of route.method.split(',')) {
        const url = route.url.replace(/:[A-Za-z]+/g, 'x').replace('*', 'x/y');
        const answer = await app.inject({ method: method as 'GET', url });
        expect(answer.statusCode, `${method} ${url}`).toBe(401);
      }
    }
  });

  it('refuses to register a route bound to nothing, or to two bindings', () => {
    const route = (config: Record<string, unknown>) =>
      ({ method: 'GET', url: '/side-door', config, handler: () => {} }) as unknown as RouteOptions;
    expect(() => assertGateBinding(route({}))).toThrow(/must be exactly one of/);
    expect(() => assertGateBinding(route({ public: true, action: 'keys.list' }))).toThrow();
    expect(() => assertGateBinding(route({ action: 'keys.list' }))).not.toThrow();
  });
});
