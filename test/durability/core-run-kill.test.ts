/**
 * SPEC §11 durability: a run's state is persisted at every transition, so after `kill -9` in the
 * middle of step 2 of 3 the restarted server continues the run from step 2 — step 1 is not run
 * again (its start time and its one agent_output version stay), step 2's http agent is called
 * again with the same Idempotency-Key, and the run finishes.
 */
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { finished } from '../helpers/runs.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('kill -9 in the middle of a run', () => {
  it('continues from the first unfinished step after a restart', async () => {
    const agents: AgentServer = await startAgentServer();
    cleanups.push(() => agents.close());
    let server: ServerProcess = await startServerProcess();
    const dataDir = server.dataDir;
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    let owner = client(server.url, server.ownerKey);
    const { key: coreSecret } = await createKey(server, { kind: 'core' });
    let core = client(server.url, coreSecret);

    const policy = (await owner('GET', '/v1/governance/policy')).json;
    const document = { ...policy.document, egress: { allow: ['127.0.0.1'] } };
    await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'loopback agent' } });
    const spec = agentSpec('holder', `${agents.url}/hang`, 60_000);
    expect(
      (await core('PUT', '/v1/artifacts/core/agent_spec/holder.json', { body: spec })).status,
    ).toBe(201);
    const basket = {
      name: 'three',
      strategy: 'sequential',
      agents: ['cashflow_analyzer', 'holder', 'goal_recommender'],
      stepTimeoutMs: 120_000,
      timeoutMs: 300_000,
    };
    expect(
      (await core('PUT', '/v1/artifacts/core/basket_config/three.json', { body: basket })).status,
    ).toBe(201);

    const started = await owner('POST', '/v1/baskets/three/runs', {
      body: { input: { transactions: [{ amount: 10 }] } },
    });
    expect(started.status).toBe(202);
    const id = started.json.id as string;
    await agents.waitForCalls(1, 30_000);
    const during = (await owner('GET', `/v1/runs/${id}`)).json;
    expect(during.status).toBe('running');
    expect(during.steps.map((s: { status: string }) => s.status)).toEqual([
      'succeeded',
      'running',
      'queued',
    ]);

    await server.kill('SIGKILL');
    agents.release();
    server = await startServerProcess({
      dataDir,
      ...(server.backend ? { backend: server.backend } : {}),
    });
    cleanups.push(() => server.kill('SIGKILL'));
    owner = client(server.url, server.ownerKey);
    core = client(server.url, coreSecret);

    // In scale-out the dead node's lease (30 s) must run out first.
    const run = await finished(owner, id, 90_000);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ recommendations: ['Increase savings'] });
    expect(run.steps[0].startedAt).toBe(during.steps[0].startedAt);
    expect(run.steps[0].artifact).toEqual(during.steps[0].artifact);
    const calls = agents.calls.filter((call) => call.key === `${id}:2`);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.body).toEqual({ analysis: { total: 10, positive: 10, negative: 0 } });
    const versions = await core(
      'GET',
      `/v1/artifacts/core/agent_output/runs/${id}/1-cashflow_analyzer.json/versions`,
    );
    expect(versions.json.versions).toHaveLength(1);
    const events = (
      await owner('GET', '/v1/events?type=bucket.run.&limit=1000')
    ).json.events.filter((event: { subject: string }) => event.subject === id);
    expect(
      events.filter((e: { type: string }) => e.type === 'bucket.run.step.succeeded'),
    ).toHaveLength(3);
    expect(events.at(-1).type).toBe('bucket.run.succeeded');
  }, 180_000);
});
