/**
 * Every finished run of a valid basket gets its execution_record (SPEC §11, docs/decisions/0056):
 * the largest basket the schema allows — its agents with the longest names, run in parallel — is
 * recorded within the class's 10 KiB, and a basket naming one agent more is refused with a 400
 * that says why, before anything runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BASKET_AGENTS } from '../../src/domain/run-record.js';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { allowLoopback, finished } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

/** The longest agent name (NAME_PATTERN: 100 characters). */
const AGENT = `echo_${'x'.repeat(95)}`;

describe('the largest basket', () => {
  let agents: AgentServer;
  let server: InProcessTestServer;
  let owner: Api;
  let core: Api;

  beforeAll(async () => {
    agents = await startAgentServer();
    server = await startTestServer({ bucket: { core: { pollMs: 50 } } });
    owner = client(server.url, server.ownerKey);
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    await allowLoopback(owner);
    const spec = agentSpec(AGENT, `${agents.url}/echo`);
    expect(
      (await core('PUT', `/v1/artifacts/core/agent_spec/${AGENT}.json`, { body: spec })).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await server?.dispose();
    await agents?.close();
  });

  const basket = async (name: string, count: number) => {
    const body = { name, strategy: 'parallel', agents: Array<string>(count).fill(AGENT) };
    const put = await core('PUT', `/v1/artifacts/core/basket_config/${name}.json`, { body });
    expect(put.status).toBe(201);
  };

  it(`records a run of ${MAX_BASKET_AGENTS} agents`, async () => {
    await basket('widest', MAX_BASKET_AGENTS);
    const started = await owner('POST', '/v1/baskets/widest/runs', { body: { input: { q: 1 } } });
    expect(started.status).toBe(202);
    const run = await finished(owner, started.json.id, 30_000);
    expect(run.status).toBe('succeeded');
    expect(run.steps).toHaveLength(MAX_BASKET_AGENTS);
    expect(run.record).toMatchObject({ class: 'execution_record', version: 1 });
    const record = await core('GET', `/v1/artifacts/core/execution_record/${run.record.name}`);
    expect(record.status).toBe(200);
    expect(record.json.steps).toHaveLength(MAX_BASKET_AGENTS);
    expect(record.json.steps.at(-1).artifact.name).toBe(
      `runs/${run.id}/${MAX_BASKET_AGENTS}-${AGENT}.json`,
    );
  });

  it('refuses a basket of one agent more with a 400 naming the limit', async () => {
    await basket('too_wide', MAX_BASKET_AGENTS + 1);
    const before = (await owner('GET', '/v1/runs?limit=1000')).json.runs.length;
    const refused = await owner('POST', '/v1/baskets/too_wide/runs', { body: { input: {} } });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('invalid_run');
    expect(refused.json.error.message).toContain(
      `/agents must NOT have more than ${MAX_BASKET_AGENTS} items`,
    );
    expect((await owner('GET', '/v1/runs?limit=1000')).json.runs).toHaveLength(before);
    const seed = await owner('POST', '/run-basket', { body: { basket_name: 'too_wide' } });
    expect(seed.status).toBe(400);
  });
});
