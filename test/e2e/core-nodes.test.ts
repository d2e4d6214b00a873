/**
 * Core on two nodes of one scale-out Bucket (SPEC §11): `limits.concurrentRuns` holds across the
 * nodes (a run queued on B waits while A's run holds the only slot), and a node killed mid-run
 * loses its lease: the other node continues the run from its unfinished step and finishes it,
 * then takes the run that waited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { finished } from '../helpers/runs.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { createScaleOutBackend, type ScaleOutBackend } from '../helpers/scaleout.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';
import { twoNodesAvailable } from '../helpers/two-nodes.js';

const available = await twoNodesAvailable();

describe.runIf(available)('core runs on two nodes', () => {
  let s3: TestS3;
  let backend: ScaleOutBackend;
  let agents: AgentServer;
  let nodeA: ServerProcess;
  let nodeB: InProcessTestServer | undefined;

  beforeAll(async () => {
    agents = await startAgentServer();
    s3 = await startS3();
    backend = await createScaleOutBackend(s3.endpoint);
    nodeA = await startServerProcess({ backend });
  });
  afterAll(async () => {
    await nodeB?.dispose();
    await nodeA?.dispose().catch(() => undefined);
    await backend?.dispose();
    await s3?.stop();
    await agents?.close();
  });

  it('holds concurrentRuns across nodes, and continues a dead node’s run on the other', async () => {
    const ownerA = client(nodeA.url, nodeA.ownerKey);
    const core = client(nodeA.url, (await createKey(nodeA, { kind: 'core' })).key);
    const policy = (await ownerA('GET', '/v1/governance/policy')).json;
    const limits = { ...policy.document.limits, concurrentRuns: 1 };
    const document = { ...policy.document, limits, egress: { allow: ['127.0.0.1'] } };
    await ownerA('PUT', '/v1/governance/policy', { body: { document, reason: 'two nodes' } });
    const spec = agentSpec('holder', `${agents.url}/hang`, 120_000);
    await core('PUT', '/v1/artifacts/core/agent_spec/holder.json', { body: spec });
    await core('PUT', '/v1/artifacts/core/basket_config/held.json', {
      body: { name: 'held', strategy: 'sequential', agents: ['holder', 'sanskrit_parser'] },
    });

    // A takes the first run (B is not started yet) and holds it in step 1.
    const first = await ownerA('POST', '/v1/baskets/held/runs', { body: { input: {} } });
    await agents.waitForCalls(1, 30_000);
    nodeB = await startTestServer({
      backend,
      env: { BUCKET_OWNER_KEY: nodeA.ownerKey },
      bucket: { core: { pollMs: 100 } },
    });
    const ownerB = client(nodeB.url, nodeA.ownerKey);
    const second = await ownerB('POST', '/v1/agents/vedic_quiz_agent/runs', {
      body: { input: { question: 'capital of India' } },
    });
    expect(second.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await ownerB('GET', `/v1/runs/${second.json.id}`)).json.status).toBe('queued');

    await nodeA.kill('SIGKILL');
    agents.release();
    // A's lease (30 s) runs out; B continues the first run from step 1, then runs the second.
    const run = await finished(ownerB, first.json.id, 90_000);
    // The holder echoes {ok, got, key}: sanskrit_parser then finds no text (an honest failure).
    expect(run.steps[0].status).toBe('succeeded');
    expect(run.steps[0].output.key).toBe(`${first.json.id}:1`);
    expect(agents.calls.filter((call) => call.key === `${first.json.id}:1`)).toHaveLength(2);
    expect(run.status).toBe('failed');
    expect(run.steps[1].error.code).toBe('invalid_input');
    const other = await finished(ownerB, second.json.id, 30_000);
    expect(other.output).toEqual({ answer: 'Delhi' });
  }, 180_000);
});
