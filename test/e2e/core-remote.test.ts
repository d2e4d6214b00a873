/**
 * The remote-calling built-ins (SPEC §11): with an endpoint configured they call it — through the
 * egress rules, with the step's Idempotency-Key — and answer what it says; without one they
 * answer their offline result marked `"offline": true`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { finished } from '../helpers/runs.js';
import { client, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

describe('remote built-in agents', () => {
  let agents: AgentServer;
  let server: InProcessTestServer;
  let owner: Api;

  beforeAll(async () => {
    agents = await startAgentServer();
    server = await startTestServer({
      bucket: {
        core: {
          pollMs: 50,
          endpoints: { gurukul_feedback: `${agents.url}/echo`, law_agent: agents.url },
        },
      },
    });
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => {
    await server?.dispose();
    await agents?.close();
  });

  const run = async (agent: string, input: unknown) => {
    const started = await owner('POST', `/v1/agents/${agent}/runs`, { body: { input } });
    expect(started.status).toBe(202);
    return finished(owner, started.json.id);
  };

  it('refuses a configured loopback endpoint until egress.allow names it', async () => {
    const refused = await run('gurukul_feedback', { student_id: 's1' });
    expect(refused.status).toBe('failed');
    expect(refused.steps[0].error.code).toBe('egress_refused');
    expect(agents.calls).toHaveLength(0);
  });

  it('calls the configured endpoint, and answers offline where none is configured', async () => {
    const policy = (await owner('GET', '/v1/governance/policy')).json;
    const document = { ...policy.document, egress: { allow: ['127.0.0.1'] } };
    await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'loopback' } });
    const feedback = await run('gurukul_feedback', { student_id: 's1' });
    expect(feedback.status).toBe('succeeded');
    expect(feedback.output).toEqual({
      ok: true,
      got: { student_id: 's1' },
      key: `${feedback.id}:1`,
    });
    const law = await run('law_agent', { query: 'my landlord', agent_type: 'enhanced' });
    expect(law.status).toBe('failed');
    // The echo is no legal answer: the output schema (domain, confidence) refuses it.
    expect(law.steps[0].error.code).toBe('invalid_output');
    expect(agents.calls.at(-1)).toMatchObject({
      path: '/enhanced-query',
      body: { user_input: 'my landlord', feedback: null },
    });
    const trend = await run('gurukul_trend', { collection_name: 'performance_data' });
    expect(trend.output).toMatchObject({ success: true, offline: true });
  });
});
