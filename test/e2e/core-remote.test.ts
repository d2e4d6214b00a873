/**
 * The remote-calling built-ins (SPEC §11): with an endpoint configured they call it — through the
 * egress rules, with the step's Idempotency-Key — and answer what it says; without one they
 * answer their offline result marked `"offline": true`. A remote failure keeps its cause: an
 * endpoint the egress rules refuse is `egress_refused`, a slow one `step_timeout`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { allowLoopback, finished } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

interface Remote {
  readonly agents: AgentServer;
  readonly server: InProcessTestServer;
  readonly owner: Api;
  /** Starts a run (`/v1/agents/<name>/runs` or `/v1/baskets/<name>/runs`), waits for its end. */
  run(path: string, input: unknown): Promise<any>;
  allowLoopback(): Promise<void>;
  dispose(): Promise<void>;
}

/** A Bucket whose remote built-ins call the agent server at the paths `endpoints` give. */
async function startRemote(endpoints: (url: string) => Record<string, string>): Promise<Remote> {
  const agents = await startAgentServer();
  const server = await startTestServer({
    bucket: { core: { pollMs: 50, endpoints: endpoints(agents.url) } },
  });
  const owner = client(server.url, server.ownerKey);
  return {
    agents,
    server,
    owner,
    async run(path, input) {
      const started = await owner('POST', path, { body: { input } });
      expect(started.status).toBe(202);
      return finished(owner, started.json.id);
    },
    allowLoopback: () => allowLoopback(owner),
    async dispose() {
      await server.dispose();
      await agents.close();
    },
  };
}

const agentRuns = (name: string) => `/v1/agents/${name}/runs`;

describe('remote built-in agents', () => {
  let remote: Remote;

  beforeAll(async () => {
    remote = await startRemote((url) => ({
      gurukul_feedback: `${url}/echo`,
      law_agent: url,
    }));
  });
  afterAll(async () => {
    await remote?.dispose();
  });

  it('refuses a configured loopback endpoint until egress.allow names it', async () => {
    const refused = await remote.run(agentRuns('gurukul_feedback'), { student_id: 's1' });
    expect(refused.status).toBe('failed');
    expect(refused.steps[0].error.code).toBe('egress_refused');
    expect(remote.agents.calls).toHaveLength(0);
  });

  it('calls the configured endpoint, and answers offline where none is configured', async () => {
    const { run, agents } = remote;
    await remote.allowLoopback();
    const feedback = await run(agentRuns('gurukul_feedback'), { student_id: 's1' });
    expect(feedback.status).toBe('succeeded');
    expect(feedback.output).toEqual({
      ok: true,
      got: { student_id: 's1' },
      key: `${feedback.id}:1`,
    });
    const law = await run(agentRuns('law_agent'), { query: 'my landlord', agent_type: 'enhanced' });
    expect(law.status).toBe('failed');
    // The echo is no legal answer: the output schema (domain, confidence) refuses it.
    expect(law.steps[0].error.code).toBe('invalid_output');
    expect(agents.calls.at(-1)).toMatchObject({
      path: '/enhanced-query',
      body: { user_input: 'my landlord', feedback: null },
    });
    const trend = await run(agentRuns('gurukul_trend'), { collection_name: 'performance_data' });
    expect(trend.output).toMatchObject({ success: true, offline: true });
  });
});

describe('remote built-ins with their services', () => {
  let remote: Remote;

  beforeAll(async () => {
    remote = await startRemote((url) => ({
      financial_coordinator: `${url}/finance/`,
      gurukul_trend: `${url}/trend`,
      gurukul_anomaly: `${url}/anomaly`,
    }));
    const core = client(remote.server.url, (await createKey(remote.server, { kind: 'core' })).key);
    const basket = {
      name: 'quick_finance',
      strategy: 'sequential',
      agents: ['financial_coordinator'],
      stepTimeoutMs: 300,
    };
    await core('PUT', '/v1/artifacts/core/basket_config/quick_finance.json', { body: basket });
  });
  afterAll(async () => {
    await remote?.dispose();
  });

  it('says egress_refused when the egress rules refuse the finance service', async () => {
    const refused = await remote.run(agentRuns('financial_coordinator'), {});
    expect(refused.status).toBe('failed');
    expect(refused.steps[0].error.code).toBe('egress_refused');
    expect(refused.error.code).toBe('egress_refused');
    expect(remote.agents.calls).toHaveLength(0);
  });

  it("calls the finance service's three routes", async () => {
    const { run, agents } = remote;
    await remote.allowLoopback();
    const agent = agentRuns('financial_coordinator');
    const listed = await run(agent, { action: 'get_transactions' });
    expect(listed.output).toEqual({
      success: true,
      transactions: [{ id: 7, amount: 250, description: 'Refund', type: 'income' }],
    });
    const transaction = { amount: -20, description: 'Tea', type: 'expense' };
    const added = await run(agent, { action: 'add_transaction', transaction });
    expect(added.output).toEqual({
      success: true,
      transaction: { id: 8, ...transaction, key: `${added.id}:1` },
    });
    const report = await run(agent, { action: 'get_report' });
    expect(report.output).toEqual({ success: true, report: 'net 250' });
    expect(agents.calls.map((call) => call.path)).toEqual([
      '/finance/transactions',
      '/finance/transactions',
      '/finance/reports',
    ]);
    expect(agents.calls[1]?.body).toEqual(transaction);
  });

  it('times out a slow finance service as step_timeout', async () => {
    const { run, agents } = remote;
    await remote.allowLoopback();
    agents.serviceDelayMs = 2000;
    try {
      const slow = await run('/v1/baskets/quick_finance/runs', { action: 'get_report' });
      expect(slow.status).toBe('timed_out');
      expect(slow.steps[0]).toMatchObject({
        status: 'timed_out',
        error: { code: 'step_timeout', message: 'no answer within 300 ms' },
      });
    } finally {
      agents.serviceDelayMs = 0;
    }
  });

  it('answers gurukul_trend and gurukul_anomaly from their services', async () => {
    const { run, agents } = remote;
    await remote.allowLoopback();
    const trend = await run(agentRuns('gurukul_trend'), { collection_name: 'grade_5' });
    expect(trend.status).toBe('succeeded');
    expect(trend.output).toEqual({
      success: true,
      trends: [{ student_id: 's9', subject: 'sanskrit', predicted_trend: 'rising' }],
      got: { collection_name: 'grade_5' },
      key: `${trend.id}:1`,
    });
    const collections = { text: [], audio: ['a.wav'], video: [], image: [] };
    const anomaly = await run(agentRuns('gurukul_anomaly'), { collections });
    expect(anomaly.status).toBe('succeeded');
    expect(anomaly.output).toEqual({
      success: true,
      anomaly_report: '1 anomaly in audio',
      anomalies: [{ audio: 2 }],
    });
    expect(agents.calls.find((call) => call.path === '/anomaly')?.body).toEqual({ collections });
  });
});
