/**
 * Core runs (SPEC §11): the agents and baskets listed, a sequential and a parallel basket run to
 * the end with their outputs stored as artifacts (with receipts) and every transition an event,
 * honest failures, input checked before anything is queued, the queue bound, and the seed's
 * routes answering 200 / 422 instead of a 200 around an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

describe('core runs', () => {
  let server: InProcessTestServer;
  let owner: Api;
  let coreKey: Api;

  beforeAll(async () => {
    server = await startTestServer({ bucket: { core: { pollMs: 50 } } });
    owner = client(server.url, server.ownerKey);
    coreKey = client(server.url, (await createKey(server, { kind: 'core' })).key);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('lists the eleven built-in agents with their schemas, on both paths', async () => {
    const answer = await owner('GET', '/v1/agents');
    expect(answer.status).toBe(200);
    const names = answer.json.agents.map((agent: { name: string }) => agent.name);
    expect(names).toEqual([
      'cashflow_analyzer',
      'goal_recommender',
      'financial_coordinator',
      'auto_diagnostics',
      'vehicle_maintenance',
      'gurukul_trend',
      'gurukul_feedback',
      'gurukul_anomaly',
      'law_agent',
      'sanskrit_parser',
      'vedic_quiz_agent',
    ]);
    expect(answer.json.agents[0]).toMatchObject({
      kind: 'builtin',
      version: '1.0.0',
      inputSchema: { type: 'object' },
      outputSchema: { type: 'object' },
    });
    expect((await owner('GET', '/agents')).json).toEqual(answer.json);
    const baskets = await owner('GET', '/baskets');
    expect(baskets.json.baskets.map((b: { name: string }) => b.name)).toEqual([
      'finance_daily_check',
      'vehicle_care',
    ]);
  });

  it('runs finance_daily_check: 202, steps, outputs stored with receipts, events', async () => {
    const input = { transactions: [{ amount: 100 }, { amount: -50 }] };
    const started = await owner('POST', '/v1/baskets/finance_daily_check/runs', {
      body: { input },
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ basket: 'finance_daily_check', status: 'queued', input });
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ recommendations: ['Increase savings'] });
    expect(run.steps.map((s: { agent: string; status: string }) => [s.agent, s.status])).toEqual([
      ['cashflow_analyzer', 'succeeded'],
      ['goal_recommender', 'succeeded'],
    ]);
    const [first] = run.steps;
    expect(first.output).toEqual({ analysis: { total: 50, positive: 100, negative: -50 } });
    expect(first.artifact).toMatchObject({
      product: 'core',
      class: 'agent_output',
      name: `runs/${run.id}/1-cashflow_analyzer.json`,
      version: 1,
    });
    expect(first.artifact.audit.leafHash).toMatch(/^[0-9a-f]{64}$/);
    const stored = await coreKey('GET', `/v1/artifacts/core/agent_output/${first.artifact.name}`);
    expect(stored.json).toEqual(first.output);
    const record = await coreKey('GET', `/v1/artifacts/core/execution_record/runs/${run.id}.json`);
    expect(record.json).toMatchObject({ id: run.id, status: 'succeeded' });
    expect(record.json.steps[0]).not.toHaveProperty('output');
    expect(run.record).toMatchObject({ class: 'execution_record', version: 1 });
    const events = await owner('GET', '/v1/events?type=bucket.run.&limit=1000');
    const mine = events.json.events.filter((e: { subject: string }) => e.subject === run.id);
    expect(mine.map((e: { type: string }) => e.type)).toEqual([
      'bucket.run.queued',
      'bucket.run.started',
      'bucket.run.step.succeeded',
      'bucket.run.step.succeeded',
      'bucket.run.succeeded',
    ]);
    expect(JSON.stringify(mine)).not.toContain('Increase savings');
    const metrics = (await owner('GET', '/metrics')).bytes.toString();
    expect(metrics).toMatch(/^bucket_run_queue_wait_seconds_count [1-9]/m);
  });

  it('runs vehicle_care in parallel: every agent gets the input, the output is by agent', async () => {
    const input = {
      today: '2026-12-04',
      vehicle_data: { error_codes: ['P0420'] },
      vehicle_info: { mileage: 45000 },
    };
    const started = await owner('POST', '/v1/baskets/vehicle_care/runs', { body: { input } });
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('succeeded');
    expect(Object.keys(run.output).sort()).toEqual(['auto_diagnostics', 'vehicle_maintenance']);
    expect(run.output.auto_diagnostics.diagnosis.estimated_cost).toBe(800);
    expect(run.output.vehicle_maintenance.services_analyzed).toBe(8);
  });

  it('fails a run honestly: the failing step, its error, the run failed', async () => {
    const basket = {
      name: 'gurukul_practice',
      strategy: 'sequential',
      agents: ['vedic_quiz_agent', 'sanskrit_parser'],
    };
    const put = await coreKey('PUT', '/v1/artifacts/core/basket_config/gurukul_practice.json', {
      body: basket,
    });
    expect(put.status).toBe(201);
    const started = await owner('POST', '/v1/baskets/gurukul_practice/runs', {
      body: { input: { question: 'What is the capital of India?' } },
    });
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', output: { answer: 'Delhi' } });
    expect(run.steps[1]).toMatchObject({ status: 'failed', error: { code: 'invalid_input' } });
    expect(run.error.code).toBe('invalid_input');
    expect(run.error.message).toMatch(/^step 2 \(sanskrit_parser\)/);
    const seed = await owner('POST', '/run-basket', {
      body: { basket_name: 'gurukul_practice', input_data: { question: 'x' } },
    });
    expect(seed.status).toBe(422);
    expect(seed.json.status).toBe('failed');
  });

  it('answers the seed routes with 200 and the run when it succeeded', async () => {
    const answer = await owner('POST', '/run-agent', {
      body: { agent_name: 'vedic_quiz_agent', input_data: { question: 'capital of India?' } },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ agent: 'vedic_quiz_agent', output: { answer: 'Delhi' } });
    const basket = await owner('POST', '/run-basket', {
      body: { basket_name: 'finance_daily_check' },
    });
    expect(basket.status).toBe(200);
    // Without transactions the cash-flow defaults apply (total 1500).
    expect(basket.json.output).toEqual({ recommendations: ['Increase savings'] });
    const invalid = await coreKey('PUT', '/v1/artifacts/core/basket_config/broken.json', {
      body: { name: 'broken', strategy: 'sideways', agents: [] },
    });
    expect(invalid.status).toBe(201);
    const refused = await owner('POST', '/v1/baskets/broken/runs', { body: { input: {} } });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/basket_config broken.json is invalid: .*strategy/);
    const unknown = await owner('POST', '/run-basket', { body: { basket_name: 'nope' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('basket_not_found');
  });

  it('refuses input that does not match the first agent before queuing anything', async () => {
    const before = (await owner('GET', '/v1/runs?limit=1000')).json.runs.length;
    const answer = await owner('POST', '/v1/agents/sanskrit_parser/runs', { body: { input: {} } });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('invalid_run');
    const listed = await owner('GET', '/v1/runs?limit=1000');
    expect(listed.json.runs.length).toBe(before);
    const bad = await owner('POST', '/v1/baskets/finance_daily_check/runs', {
      body: { input: { transactions: [{ id: 1 }] } },
    });
    expect(bad.status).toBe(400);
  });

  it('refuses input nested too deeply on every run route with 400, queuing nothing', async () => {
    const before = (await owner('GET', '/v1/runs?limit=1000')).json.runs.length;
    // As text: deep enough that serialising it again would overflow the stack.
    const deep = `{"transactions":[],"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const shallow = `{"transactions":[],"x":${'['.repeat(65)}${']'.repeat(65)}}`;
    for (const [path, body] of [
      ['/v1/agents/cashflow_analyzer/runs', `{"input":${deep}}`],
      ['/v1/baskets/finance_daily_check/runs', `{"input":${deep}}`],
      ['/run-agent', `{"agent_name":"cashflow_analyzer","input_data":${deep}}`],
      ['/run-basket', `{"basket_name":"finance_daily_check","input_data":${shallow}}`],
    ] as const) {
      const answer = await owner('POST', path, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.status, `${path}: ${answer.bytes.toString().slice(0, 200)}`).toBe(400);
      expect(answer.json.error.code).toBe('invalid_run');
      expect(answer.json.error.message).toMatch(/nested deeper than 64 levels/);
    }
    expect((await owner('GET', '/v1/runs?limit=1000')).json.runs.length).toBe(before);
  });

  it('lists runs newest first, by basket and status, with a cursor', async () => {
    const page = await owner('GET', '/v1/runs?basket=finance_daily_check&limit=1');
    expect(page.status).toBe(200);
    expect(page.json.runs).toHaveLength(1);
    expect(page.json.nextCursor).not.toBeNull();
    const next = await owner(
      'GET',
      `/v1/runs?basket=finance_daily_check&limit=1&cursor=${page.json.nextCursor}`,
    );
    expect(next.json.runs[0].id).not.toBe(page.json.runs[0].id);
    const failed = await owner('GET', '/v1/runs?status=failed');
    expect(failed.json.runs.every((r: { status: string }) => r.status === 'failed')).toBe(true);
    expect((await owner('GET', '/v1/runs?cursor=zzz')).status).toBe(400);
  });

  it('refuses more than limits.queuedRuns queued runs with 429', async () => {
    const policy = (await owner('GET', '/v1/governance/policy')).json;
    const document = { ...policy.document, limits: { ...policy.document.limits, queuedRuns: 0 } };
    expect(
      (await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'test' } })).status,
    ).toBe(200);
    const answer = await owner('POST', '/v1/baskets/finance_daily_check/runs', {
      body: { input: {} },
    });
    expect(answer.status).toBe(429);
    expect(answer.json.error.code).toBe('run_queue_full');
    expect(answer.headers.get('retry-after')).toBe('1');
    await owner('PUT', '/v1/governance/policy', {
      body: { document: policy.document, reason: 'back' },
    });
  });
});
