/**
 * Every route in every mode (SPEC §9): one probe per registered route — a route without a probe
 * fails the first test, so a new route cannot be forgotten — answered as the spec's class of its
 * action says: `read_only` refuses artifact writes, tombstones and restores (503
 * `bucket_read_only`); `halted` refuses everything but the public routes, the mode and incident
 * routes and audit reads (503 `bucket_halted`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/domain/modes.js';
import { ACTION_NAMES, ACTIONS, type Action } from '../../src/gate/actions.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';
import { SPEC_CLASS, type Expected } from '../helpers/spec-modes.js';

function refusal(mode: Mode, expected: Expected): string | null {
  if (mode === 'normal' || expected === 'always') return null;
  if (mode === 'halted') return 'bucket_halted';
  return expected === 'write' ? 'bucket_read_only' : null;
}

type KeyName = 'owner' | 'product' | 'core';

interface Probe {
  readonly action: Action;
  readonly key: KeyName;
  readonly path: string;
  readonly body?: (mode: Mode) => unknown;
}

const ARTIFACT = '/v1/artifacts/ai_avatar/avatar_config/modes/a.json';
const BASKET = '/v1/artifacts/core/basket_config/modes/b.json';
const S3 = '/v1/keys/k/s3-credentials';
let integrationId = '';
let liveDocument: unknown = null;
let written = 0;

const owner = (action: Action, path: string, body?: Probe['body']): Probe => ({
  action,
  key: 'owner',
  path,
  ...(body ? { body } : {}),
});

/** Probes by `METHOD url` of the registered route; a HEAD route without one uses its GET's. */
const PROBES: Record<string, Probe[]> = {
  'PUT /v1/artifacts/:product/:class/*': [
    { action: 'artifact.write', key: 'product', path: ARTIFACT, body: () => ({ n: ++written }) },
    owner('artifact.retention', `${ARTIFACT}/retention`, () => ({ until: null, reason: 'probe' })),
  ],
  'GET /v1/artifacts/:product/:class/*': [
    owner('artifact.read', ARTIFACT),
    owner('artifact.versions', `${ARTIFACT}/versions`),
  ],
  'HEAD /v1/artifacts/:product/:class/*': [owner('artifact.head', ARTIFACT)],
  'DELETE /v1/artifacts/:product/:class/*': [
    { action: 'artifact.delete', key: 'core', path: BASKET },
  ],
  'POST /v1/artifacts/:product/:class/*': [
    { action: 'artifact.restore', key: 'core', path: `${BASKET}/restore` },
  ],
  'GET /v1/artifacts/:product': [owner('artifact.list', '/v1/artifacts/ai_avatar')],
  // A one-line batch (sent as application/json, which a batch refuses with 415 in normal mode).
  'POST /v1/batch': [
    {
      action: 'artifact.batch',
      key: 'product',
      path: '/v1/batch',
      body: () => ({ op: 'put', product: 'ai_avatar', class: 'avatar_config', name: 'm/b.json' }),
    },
  ],
  'POST /v1/keys': [owner('keys.create', '/v1/keys', () => ({ kind: 'auditor', name: 'probe' }))],
  'GET /v1/keys': [owner('keys.list', '/v1/keys')],
  'DELETE /v1/keys/:id': [owner('keys.revoke', '/v1/keys/key_missing')],
  'POST /v1/keys/:id/reinstate': [owner('keys.reinstate', '/v1/keys/key_missing/reinstate')],
  'POST /v1/keys/:id/s3-credentials': [owner('keys.create', S3)],
  'GET /v1/keys/:id/s3-credentials': [owner('keys.list', S3)],
  'DELETE /v1/keys/:id/s3-credentials/:accessKeyId': [owner('keys.revoke', `${S3}/A`)],
  'GET /v1/governance/policy': [owner('policy.read', '/v1/governance/policy')],
  'PUT /v1/governance/policy': [
    owner('policy.update', '/v1/governance/policy', () => ({
      document: liveDocument,
      reason: 'probe',
    })),
  ],
  'POST /v1/governance/policy/restore': [
    owner('policy.restore', '/v1/governance/policy/restore', () => ({
      version: 1,
      reason: 'probe',
    })),
  ],
  'GET /v1/governance/policy/versions': [
    owner('policy.versions', '/v1/governance/policy/versions'),
  ],
  'GET /v1/governance/policy/versions/:n': [
    owner('policy.versions', '/v1/governance/policy/versions/1'),
  ],
  'POST /governance/gate/validate-integration': [
    owner('integrations.validate', '/governance/gate/validate-integration', () => ({
      integrationId: `probe-${++written}`,
      integrationType: 'api_client',
      productName: 'gurukul',
      artifactClasses: ['user_progress'],
      dataSchema: { nsfw_policy: 'none', retention_policy: 'class retention' },
    })),
  ],
  'GET /v1/integrations': [owner('integrations.list', '/v1/integrations')],
  'GET /v1/integrations/:id': [owner('integrations.read', '/v1/integrations/missing')],
  'DELETE /v1/integrations/:id': [owner('integrations.revoke', '/v1/integrations/missing')],
  'POST /governance/gate/validate-operation': [
    owner('gate.validate_operation', '/governance/gate/validate-operation', () => ({
      integrationId,
      operationType: 'READ',
      artifactClass: 'avatar_config',
      dataSize: 1,
    })),
  ],
  'GET /governance/gate/scale-limits': [owner('gate.read', '/governance/gate/scale-limits')],
  'GET /governance/gate/product-rules': [owner('gate.read', '/governance/gate/product-rules')],
  'GET /governance/gate/operation-rules': [owner('gate.read', '/governance/gate/operation-rules')],
  'GET /governance/gate/status': [owner('gate.read', '/governance/gate/status')],
  'GET /v1/metrics/scale-status': [owner('gate.read', '/v1/metrics/scale-status')],
  'GET /v1/governance/threats': [owner('threats.read', '/v1/governance/threats')],
  'POST /v1/governance/holds': [
    owner('holds.place', '/v1/governance/holds', () => ({
      scope: { product: 'ai_avatar', prefix: 'no-such-prefix/' },
      caseRef: 'probe',
      reason: 'probe',
    })),
  ],
  'GET /v1/governance/holds': [owner('holds.read', '/v1/governance/holds')],
  'DELETE /v1/governance/holds/:id': [
    owner('holds.lift', '/v1/governance/holds/hold_missing?reason=probe'),
  ],
  'POST /v1/governance/retention/sweep': [
    owner('retention.sweep', '/v1/governance/retention/sweep', () => ({ dryRun: true })),
  ],
  'GET /v1/governance/subjects/:subject/export': [
    owner('subjects.export', '/v1/governance/subjects/user:probe/export'),
  ],
  'POST /v1/governance/erasures': [
    owner('erasures.create', '/v1/governance/erasures', () => ({
      subject: 'user:probe',
      reason: 'probe',
    })),
  ],
  'GET /v1/governance/erasures/:id': [
    owner('erasures.read', '/v1/governance/erasures/erasure_missing'),
  ],
  'GET /v1/audit/entries': [owner('audit.read', '/v1/audit/entries?limit=2')],
  'GET /v1/audit/entries/:index': [owner('audit.read', '/v1/audit/entries/0')],
  'GET /v1/audit/checkpoint': [owner('audit.read', '/v1/audit/checkpoint')],
  'GET /v1/audit/public-key': [owner('audit.read', '/v1/audit/public-key')],
  'GET /v1/audit/proof/inclusion': [
    owner('audit.read', '/v1/audit/proof/inclusion?index=0&size=1'),
  ],
  'GET /v1/audit/proof/consistency': [
    owner('audit.read', '/v1/audit/proof/consistency?from=1&to=1'),
  ],
  'GET /v1/audit/export': [owner('audit.export', '/v1/audit/export?from=0&to=1')],
  'POST /v1/audit/*': [owner('audit.write', '/v1/audit/entries')],
  'PUT /v1/audit/*': [owner('audit.write', '/v1/audit/entries/0')],
  'PATCH /v1/audit/*': [owner('audit.write', '/v1/audit/entries/0')],
  'DELETE /v1/audit/*': [owner('audit.write', '/v1/audit/entries/0')],
  'GET /v1/events': [owner('events.read', '/v1/events')],
  'GET /v1/events/stream': [owner('events.read', '/v1/events/stream')],
  'POST /v1/webhooks': [
    owner('webhooks.create', '/v1/webhooks', () => ({
      url: 'https://hooks.example.com/probe',
      types: ['bucket.mode.'],
    })),
  ],
  'GET /v1/webhooks': [owner('webhooks.list', '/v1/webhooks')],
  'DELETE /v1/webhooks/:id': [owner('webhooks.delete', '/v1/webhooks/wh_missing')],
  'GET /v1/webhooks/:id/deliveries': [
    owner('webhooks.deliveries', '/v1/webhooks/wh_missing/deliveries'),
  ],
  'POST /v1/governance/exceptions': [
    owner('exceptions.request', '/v1/governance/exceptions', () => ({
      title: 'probe',
      justification: 'probe',
      patch: [{ op: 'test', path: '/version', value: 1 }],
      durationMinutes: 1,
    })),
  ],
  'GET /v1/governance/exceptions': [owner('exceptions.list', '/v1/governance/exceptions')],
  'POST /v1/governance/exceptions/:id/approve': [
    owner('exceptions.approve', '/v1/governance/exceptions/ex_missing/approve', () => ({
      reason: 'probe',
    })),
  ],
  'POST /v1/governance/exceptions/:id/reject': [
    owner('exceptions.reject', '/v1/governance/exceptions/ex_missing/reject', () => ({
      reason: 'probe',
    })),
  ],
  'POST /v1/governance/scrub': [owner('scrub.start', '/v1/governance/scrub')],
  'GET /v1/governance/scrub/:id': [owner('scrub.read', '/v1/governance/scrub/scr_missing')],
  'GET /v1/governance/drift': [owner('drift.read', '/v1/governance/drift')],
  'GET /v1/agents': [owner('agents.list', '/v1/agents')],
  'GET /agents': [owner('agents.list', '/agents')],
  'GET /v1/baskets': [owner('baskets.list', '/v1/baskets')],
  'GET /baskets': [owner('baskets.list', '/baskets')],
  'GET /v1/baskets/:name': [owner('baskets.list', '/v1/baskets/finance_daily_check')],
  'POST /v1/baskets/:name/runs': [
    owner('runs.start', '/v1/baskets/finance_daily_check/runs', () => ({ input: {} })),
  ],
  'POST /v1/agents/:name/runs': [
    owner('runs.start', '/v1/agents/sanskrit_parser/runs', () => ({ input: { text: 'a b' } })),
  ],
  'POST /run-basket': [
    owner('runs.start', '/run-basket', () => ({ basket_name: 'finance_daily_check' })),
  ],
  'POST /run-agent': [
    owner('runs.start', '/run-agent', () => ({
      agent_name: 'vedic_quiz_agent',
      input_data: { question: 'q' },
    })),
  ],
  'GET /v1/runs': [owner('runs.read', '/v1/runs')],
  'GET /v1/runs/:id': [owner('runs.read', '/v1/runs/run_missing')],
  'POST /v1/runs/:id/cancel': [owner('runs.cancel', '/v1/runs/run_missing/cancel')],
  'GET /v1/governance/certification': [
    { action: 'certification.read', key: 'product', path: '/v1/governance/certification' },
  ],
  'GET /v1/governance/mode': [owner('mode.read', '/v1/governance/mode')],
  'POST /v1/governance/mode': [
    owner('mode.set', '/v1/governance/mode', (mode) => ({ mode, reason: 'probe' })),
  ],
  'GET /v1/governance/incidents': [owner('incidents.list', '/v1/governance/incidents')],
  'POST /v1/governance/incidents/:id/resolve': [
    owner('incidents.resolve', '/v1/governance/incidents/inc_missing/resolve', () => ({
      resolution: 'probe',
    })),
  ],
};

/** Every registered route as `METHOD url`, one per method. */
function routeKeys(server: InProcessTestServer, binding: 'public' | 'gated'): string[] {
  return server.app.gateBindings
    .filter((route) => (route.binding === 'public') === (binding === 'public'))
    .flatMap((route) => route.method.split(',').map((method) => `${method} ${route.url}`));
}

function probesOf(route: string): Probe[] {
  const own = PROBES[route];
  if (own) return own;
  const [method, url] = route.split(' ');
  return method === 'HEAD' ? (PROBES[`GET ${url}`] ?? []) : [];
}

/** One request; an event stream is closed once its head arrived. */
async function send(
  url: string,
  method: string,
  key: string | null,
  body: unknown,
): Promise<{ status: number; code: string | null }> {
  const controller = new AbortController();
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const answer = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: controller.signal,
  });
  const type = answer.headers.get('content-type') ?? '';
  if (type.startsWith('application/json') && method !== 'HEAD') {
    const json = (await answer.json()) as { error?: { code?: string } };
    return { status: answer.status, code: json.error?.code ?? null };
  }
  controller.abort();
  return { status: answer.status, code: null };
}

describe('every route in every mode', () => {
  let server: InProcessTestServer;
  const keys: Record<KeyName, string> = { owner: '', product: '', core: '' };

  beforeAll(async () => {
    server = await startTestServer();
    keys.owner = server.ownerKey;
    const product = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    keys.product = product.key;
    integrationId = product.integrationId ?? '';
    keys.core = (await createKey(server, { kind: 'core', product: 'core' })).key;
    const asProduct = client(server.url, keys.product);
    expect((await asProduct('PUT', ARTIFACT, { body: { n: 0 } })).status).toBe(201);
    const asCore = client(server.url, keys.core);
    expect((await asCore('PUT', BASKET, { body: { name: 'b' } })).status).toBe(201);
    liveDocument = (await client(server.url, keys.owner)('GET', '/v1/governance/policy')).json
      .document;
  });
  afterAll(async () => server?.dispose());

  it('has a probe for every gated route, and the action table agrees with SPEC §9', () => {
    const missing = routeKeys(server, 'gated').filter((route) => probesOf(route).length === 0);
    expect(missing).toEqual([]);
    for (const action of ACTION_NAMES) {
      expect(ACTIONS[action].mode, action).toBe(SPEC_CLASS[action]);
    }
  });

  it.each(['read_only', 'halted', 'normal'] as const)(
    'in %s, refuses exactly what its class says',
    async (mode) => {
      const api = client(server.url, keys.owner);
      const switched = await api('POST', '/v1/governance/mode', { body: { mode, reason: 'test' } });
      expect(switched.status).toBe(200);
      expect(switched.json).toMatchObject({ mode, reason: 'test', by: expect.any(String) });
      for (const route of routeKeys(server, 'gated')) {
        const method = route.split(' ')[0] ?? '';
        for (const probe of probesOf(route)) {
          const label = `${mode}: ${method} ${probe.path} (${probe.action})`;
          const answer = await send(
            server.url + probe.path,
            method,
            keys[probe.key],
            probe.body?.(mode),
          );
          const expected = refusal(mode, SPEC_CLASS[probe.action]);
          if (expected === null) {
            expect(answer.status, label).not.toBe(503);
          } else {
            expect(answer.status, label).toBe(503);
            if (method !== 'HEAD') expect(answer.code, label).toBe(expected);
          }
        }
      }
      // The public routes answer in every mode (/health with the mode's status, SPEC §9).
      for (const route of routeKeys(server, 'public')) {
        const [method = 'GET', url = ''] = route.split(' ');
        const answer = await send(
          server.url + url.replace('*', 'index.html'),
          method,
          null,
          undefined,
        );
        const label = `${mode}: ${route}`;
        expect(answer.code, label).toBeNull();
        if (url !== '/health') expect(answer.status, label).not.toBe(503);
        else expect(answer.status, label).toBe(mode === 'halted' ? 503 : 200);
      }
    },
  );
});
