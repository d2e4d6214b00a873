/**
 * The seed's waiting routes (SPEC §11: `POST /run-basket` waits for the run, 202 when the wait ends
 * first) never outlive their connection: the wait stops safely before the socket's idle timeout
 * (`BUCKET_IDLE_TIMEOUT_S`) and answers 202 with the run and where to follow it; it stops when the
 * client goes away, and when the server stops (a graceful stop is not held by a waiting client).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/domain/runs.js';
import { seedWaitMs } from '../../src/http/routes/seed-core.js';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { allowLoopback } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

/** A server whose basket `held` waits in its one step until the agent server is released. */
async function heldServer(agents: AgentServer, env: Record<string, string> = {}) {
  const server = await startTestServer({ env, bucket: { core: { pollMs: 50 } } });
  const owner = client(server.url, server.ownerKey);
  const core = client(server.url, (await createKey(server, { kind: 'core' })).key);
  await allowLoopback(owner);
  const spec = agentSpec('holder', `${agents.url}/hang`, 600_000);
  await core('PUT', '/v1/artifacts/core/agent_spec/holder.json', { body: spec });
  await core('PUT', '/v1/artifacts/core/basket_config/held.json', {
    body: { name: 'held', strategy: 'sequential', agents: ['holder'], timeoutMs: 600_000 },
  });
  return { server, owner };
}

const runBasket = (server: InProcessTestServer, signal?: AbortSignal) =>
  fetch(`${server.url}/run-basket`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.ownerKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ basket_name: 'held', input_data: {} }),
    signal: signal ?? null,
  });

describe('the seed routes’ wait', () => {
  let agents: AgentServer;
  let server: InProcessTestServer;

  beforeAll(async () => {
    agents = await startAgentServer();
    ({ server } = await heldServer(agents, { BUCKET_IDLE_TIMEOUT_S: '2' }));
  });
  afterAll(async () => {
    await server?.dispose();
    await agents?.close();
  });

  it('answers 202 and the run’s URL before the idle timeout would cut the connection', async () => {
    // The idle timeout is 2 s: an answer after it would be a cut connection, not a 202.
    const answer = await runBasket(server);
    expect(answer.status).toBe(202);
    const run = (await answer.json()) as RunRecord;
    expect(run).toMatchObject({ basket: 'held', status: 'running' });
    expect(answer.headers.get('location')).toBe(`/v1/runs/${run.id}`);
    expect(seedWaitMs(2)).toBe(1500);
    expect(seedWaitMs(120)).toBe(110_000);
  });

  it('stops waiting when the client goes away', async () => {
    const metadata = server.bucket.metadata;
    const getRun = metadata.getRun.bind(metadata);
    const reads: number[] = [];
    metadata.getRun = (id: string) => {
      reads.push(Date.now());
      return getRun(id);
    };
    try {
      const gone = new AbortController();
      const calls = agents.calls.length;
      const request = runBasket(server, gone.signal).catch((error: Error) => error);
      await agents.waitForCalls(calls + 1);
      gone.abort();
      expect(await request).toBeInstanceOf(Error);
      const abandoned = Date.now();
      // A wait still going would read its run again when its 1.5 s are up.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(reads.filter((at) => at > abandoned + 100)).toEqual([]);
    } finally {
      metadata.getRun = getRun;
    }
  });
});

describe('a graceful stop', () => {
  it('ends a waiting seed request with 202 instead of waiting for its run', async () => {
    const agents = await startAgentServer();
    const { server } = await heldServer(agents);
    try {
      const request = runBasket(server);
      await agents.waitForCalls(1);
      const began = Date.now();
      await server.stop();
      expect(Date.now() - began).toBeLessThan(5000);
      const answer = await request;
      expect(answer.status).toBe(202);
      expect(((await answer.json()) as RunRecord).status).toBe('running');
    } finally {
      await server.dispose();
      await agents.close();
    }
  }, 30_000);
});
