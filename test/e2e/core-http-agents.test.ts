/**
 * http agents (SPEC §11): registered as agent_spec artifacts, called with their input and an
 * Idempotency-Key, within their time limit, without redirects, their answer checked against their
 * output schema, and only on addresses the egress rules allow; truly parallel baskets; step and
 * overall timeouts; cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';
import { finished } from '../helpers/runs.js';

type Api = ReturnType<typeof client>;

describe('http agents', () => {
  let server: InProcessTestServer;
  let agents: AgentServer;
  let owner: Api;
  let coreKey: Api;

  const register = async (name: string, path: string, timeoutMs?: number) => {
    const spec = agentSpec(name, agents.url + path, timeoutMs);
    const put = await coreKey('PUT', `/v1/artifacts/core/agent_spec/${name}.json`, { body: spec });
    expect([200, 201]).toContain(put.status);
  };
  const basket = async (body: Record<string, unknown>) => {
    const put = await coreKey(
      'PUT',
      `/v1/artifacts/core/basket_config/${String(body['name'])}.json`,
      {
        body,
      },
    );
    expect([200, 201]).toContain(put.status);
  };
  const runAgent = async (name: string, input: unknown = { q: 1 }) => {
    const started = await owner('POST', `/v1/agents/${name}/runs`, { body: { input } });
    expect(started.status).toBe(202);
    return finished(owner, started.json.id);
  };
  const allowLoopback = async (allow: string[]) => {
    const policy = (await owner('GET', '/v1/governance/policy')).json;
    const document = { ...policy.document, egress: { allow } };
    const put = await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'test' } });
    expect(put.status).toBe(200);
  };

  beforeAll(async () => {
    agents = await startAgentServer();
    server = await startTestServer({ bucket: { core: { pollMs: 50 } } });
    owner = client(server.url, server.ownerKey);
    coreKey = client(server.url, (await createKey(server, { kind: 'core' })).key);
    await register('echo', '/echo');
    await register('failing', '/fail');
    await register('nonconforming', '/bad');
    await register('redirecting', '/redirect');
    await register('slow', '/slow?ms=2000', 300);
    await register('slowish', '/slow?ms=400');
    await register('slower', '/slow?ms=1500');
    await register('hanging', '/hang');
  });
  afterAll(async () => {
    await server?.dispose();
    await agents?.close();
  });

  it('refuses a private address without egress.allow (the shipped policy)', async () => {
    const run = await runAgent('echo');
    expect(run.status).toBe('failed');
    expect(run.steps[0].error).toMatchObject({ code: 'egress_refused' });
    expect(agents.calls).toHaveLength(0);
  });

  it('lists a registered agent, and calls it with its input and an idempotency key', async () => {
    await allowLoopback(['127.0.0.1']);
    const listed = (await owner('GET', '/v1/agents')).json.agents;
    expect(listed.find((a: { name: string }) => a.name === 'echo')).toMatchObject({
      kind: 'http',
      timeoutMs: 5000,
    });
    const run = await runAgent('echo', { q: 'hello' });
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ ok: true, got: { q: 'hello' }, key: `${run.id}:1` });
  });

  it('refuses a run of an invalid agent_spec, naming what is wrong', async () => {
    const spec = { ...agentSpec('broken', `${agents.url}/echo`), endpoint: 'ftp://x' };
    await coreKey('PUT', '/v1/artifacts/core/agent_spec/broken.json', { body: spec });
    const answer = await owner('POST', '/v1/agents/broken/runs', { body: { input: {} } });
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toMatch(/agent_spec broken.json is invalid: \/endpoint/);
    const listed = (await owner('GET', '/v1/agents')).json.agents;
    expect(listed.some((a: { name: string }) => a.name === 'broken')).toBe(false);
  });

  it('fails on an error answer, a non-conforming answer and a redirect', async () => {
    const failing = await runAgent('failing');
    expect(failing.status).toBe('failed');
    expect(failing.steps[0].error).toMatchObject({ code: 'agent_http_error' });
    const bad = await runAgent('nonconforming');
    expect(bad.status).toBe('failed');
    expect(bad.steps[0].error.code).toBe('invalid_output');
    const redirect = await runAgent('redirecting');
    expect(redirect.steps[0].error.code).toBe('agent_redirect');
    // Not followed: the redirect's target was never called by this run.
    expect(agents.calls.filter((call) => call.key === `${redirect.id}:1`)).toHaveLength(1);
  });

  it('times a slow agent out at its own limit: the run timed_out', async () => {
    const run = await runAgent('slow');
    expect(run.status).toBe('timed_out');
    expect(run.steps[0]).toMatchObject({ status: 'timed_out', error: { code: 'step_timeout' } });
  });

  it('runs a parallel basket truly in parallel', async () => {
    await basket({
      name: 'both',
      strategy: 'parallel',
      agents: ['slowish', 'echo'],
      timeoutMs: 5000,
    });
    await basket({ name: 'twins', strategy: 'parallel', agents: ['slowish', 'slowish'] });
    const answer = await owner('POST', '/v1/baskets/twins/runs', { body: { input: { n: 1 } } });
    const run = await finished(owner, answer.json.id);
    expect(run.status).toBe('succeeded');
    expect(agents.maxInFlight(400)).toBe(2);
    const both = await finished(
      owner,
      (await owner('POST', '/v1/baskets/both/runs', { body: { input: { n: 2 } } })).json.id,
    );
    expect(both.output.echo).toEqual({ ok: true, got: { n: 2 }, key: `${both.id}:2` });
    expect(both.output.slowish.got).toEqual({ n: 2 });
  });

  it('passes each output on in a sequential basket, and honours the overall timeout', async () => {
    await basket({ name: 'chain', strategy: 'sequential', agents: ['echo', 'echo'] });
    const chain = await finished(
      owner,
      (await owner('POST', '/v1/baskets/chain/runs', { body: { input: { a: 1 } } })).json.id,
    );
    expect(chain.output.got).toEqual({ ok: true, got: { a: 1 }, key: `${chain.id}:1` });
    await basket({
      name: 'too_long',
      strategy: 'sequential',
      // A second of margin for the first step on a loaded machine; the second cannot fit.
      agents: ['slower', 'slower', 'slower'],
      stepTimeoutMs: 5000,
      timeoutMs: 2500,
    });
    const run = await finished(
      owner,
      (await owner('POST', '/v1/baskets/too_long/runs', { body: { input: {} } })).json.id,
    );
    expect(run.status).toBe('timed_out');
    expect(run.error.code).toBe('run_timeout');
    expect(run.steps.map((s: { status: string }) => s.status)).toEqual([
      'succeeded',
      'timed_out',
      'timed_out',
    ]);
  });

  it('fails a parallel run at its first failing step, cutting the others short', async () => {
    await basket({ name: 'doomed', strategy: 'parallel', agents: ['hanging', 'failing'] });
    const started = await owner('POST', '/v1/baskets/doomed/runs', { body: { input: {} } });
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('failed');
    expect(run.error.message).toMatch(/^step 2 \(failing\)/);
    // Without waiting for the hanging agent, which would answer only at its time limit.
    expect(run.steps.map((step: { status: string }) => step.status)).toEqual([
      'cancelled',
      'failed',
    ]);
    expect(run.steps[0].error).toEqual({
      code: 'cancelled',
      message: 'another step of this parallel run failed first',
    });
  });

  it('cancels a running run: 202, then cancelled with its step', async () => {
    const started = await owner('POST', '/v1/agents/hanging/runs', { body: { input: {} } });
    const before = agents.calls.length;
    await agents.waitForCalls(before + 1);
    const cancel = await owner('POST', `/v1/runs/${started.json.id}/cancel`);
    expect(cancel.status).toBe(202);
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('cancelled');
    expect(run.steps[0]).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    const events = (await owner('GET', '/v1/events?type=bucket.run.cancelled')).json.events;
    expect(events.some((e: { subject: string }) => e.subject === run.id)).toBe(true);
    expect((await owner('POST', '/v1/runs/nope/cancel')).status).toBe(404);
  });

  it('cancels a queued run at once, with its execution record', async () => {
    const setConcurrentRuns = async (concurrentRuns: number) => {
      const policy = (await owner('GET', '/v1/governance/policy')).json;
      const limits = { ...policy.document.limits, concurrentRuns };
      const document = { ...policy.document, limits };
      const put = await owner('PUT', '/v1/governance/policy', {
        body: { document, reason: 'test' },
      });
      expect(put.status).toBe(200);
    };
    await setConcurrentRuns(1);
    try {
      const before = agents.calls.length;
      const holding = await owner('POST', '/v1/agents/hanging/runs', { body: { input: {} } });
      await agents.waitForCalls(before + 1);
      // The only worker slot is taken: this one stays queued.
      const queued = await owner('POST', '/v1/agents/echo/runs', { body: { input: {} } });
      expect((await owner('GET', `/v1/runs/${queued.json.id}`)).json.status).toBe('queued');
      const cancel = await owner('POST', `/v1/runs/${queued.json.id}/cancel`);
      expect(cancel.status).toBe(202);
      expect(cancel.json).toMatchObject({
        status: 'cancelled',
        startedAt: null,
        record: { class: 'execution_record', version: 1 },
      });
      const record = await owner(
        'GET',
        `/v1/artifacts/core/execution_record/runs/${queued.json.id}.json`,
      );
      expect(record.status).toBe(200);
      expect(record.json).toMatchObject({
        id: queued.json.id,
        status: 'cancelled',
        startedAt: null,
      });
      expect((await owner('GET', `/v1/runs/${queued.json.id}`)).json.record).toEqual(
        cancel.json.record,
      );
      expect((await owner('POST', `/v1/runs/${holding.json.id}/cancel`)).status).toBe(202);
      expect((await finished(owner, holding.json.id)).status).toBe('cancelled');
    } finally {
      await setConcurrentRuns(8);
    }
  });
});
