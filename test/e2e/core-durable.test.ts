/**
 * SPEC §11: a run's deadline survives a restart (a run whose deadline passed while the Bucket was
 * down is `timed_out`, by the Bucket's clock), and a step output the gate refuses (a detector hit)
 * fails its step with that decision and counts toward no suspension of Core's own principal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { finished } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

describe('core durability and the gate', () => {
  let agents: AgentServer;
  let server: InProcessTestServer;
  let clock = Date.parse('2027-01-10T09:00:00.000Z');
  let owner: Api;
  let coreSecret: string;
  const options = () => ({ bucket: { now: () => clock, core: { pollMs: 50, leaseMs: 600 } } });

  beforeAll(async () => {
    agents = await startAgentServer();
    server = await startTestServer(options());
    owner = client(server.url, server.ownerKey);
    coreSecret = (await createKey(server, { kind: 'core' })).key;
    const core = client(server.url, coreSecret);
    const policy = (await owner('GET', '/v1/governance/policy')).json;
    const document = { ...policy.document, egress: { allow: ['127.0.0.1'] } };
    await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'loopback' } });
    for (const [name, path] of [
      ['holder', '/hang'],
      ['echo', '/echo'],
    ] as const) {
      const spec = agentSpec(name, agents.url + path, 60_000);
      await core('PUT', `/v1/artifacts/core/agent_spec/${name}.json`, { body: spec });
    }
    await core('PUT', '/v1/artifacts/core/basket_config/held.json', {
      body: { name: 'held', strategy: 'sequential', agents: ['holder'], timeoutMs: 60_000 },
    });
  });
  afterAll(async () => {
    await server?.dispose();
    await agents?.close();
  });

  it('times out a run whose deadline passed while the Bucket was down', async () => {
    const started = await owner('POST', '/v1/baskets/held/runs', { body: { input: {} } });
    await agents.waitForCalls(1);
    const running = (await owner('GET', `/v1/runs/${started.json.id}`)).json;
    expect(running.status).toBe('running');
    expect(Date.parse(running.deadline)).toBe(Date.parse(running.startedAt) + 60_000);
    // A graceful stop saves nothing more: the step stays running, for the next start to continue.
    await server.stop();
    clock += 61_000;
    server = await startTestServer({
      ...options(),
      dataDir: server.dataDir,
      ...(server.backend ? { backend: server.backend } : {}),
    });
    owner = client(server.url, server.ownerKey);
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('timed_out');
    expect(run.error).toMatchObject({ code: 'run_timeout' });
    expect(run.steps[0].status).toBe('timed_out');
    expect(agents.calls).toHaveLength(1);
  });

  it('pauses a run while the Bucket is read_only and finishes it once normal', async () => {
    const started = await owner('POST', '/v1/baskets/held/runs', { body: { input: {} } });
    const before = agents.calls.length;
    await agents.waitForCalls(before + 1);
    const set = (mode: string) =>
      owner('POST', '/v1/governance/mode', { body: { mode, reason: 'test' } });
    expect((await set('read_only')).status).toBe(200);
    agents.release();
    // The step's output cannot be stored: the run waits, neither failed nor finished.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await owner('GET', `/v1/runs/${started.json.id}`)).json.status).toBe('running');
    expect((await set('normal')).status).toBe(200);
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0].artifact.version).toBe(1);
  });

  it('fails a step whose output the gate refuses, without suspending Core', async () => {
    for (let i = 0; i < 4; i++) {
      const started = await owner('POST', '/v1/agents/echo/runs', {
        body: { input: { api_key: 'sk_live_0123456789abcdef' } },
      });
      const run = await finished(owner, started.json.id);
      expect(run.status).toBe('failed');
      expect(run.steps[0].error.code).toBe('forbidden');
    }
    const clean = await owner('POST', '/v1/agents/echo/runs', { body: { input: { q: 1 } } });
    expect((await finished(owner, clean.json.id)).status).toBe('succeeded');
    const threats = (await owner('GET', '/v1/governance/threats')).json;
    expect(JSON.stringify(threats.suspendedKeys ?? [])).not.toContain('bucket:core');
  });
});
