/**
 * SPEC §11 durability at the end of a run: a node that stored the run's execution_record (or a
 * step's failure) and then lost its lease before saving the final state — as after a crash — leaves
 * the run `running`; the node that takes it up finishes it with that outcome. Its record is the
 * one already stored (execution_record has no UPDATE: writing it again would be refused as T3),
 * and a failed step is not run again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDraft } from '../../src/domain/events.js';
import type { RunRecord } from '../../src/domain/runs.js';
import { agentSpec, startAgentServer, type AgentServer } from '../helpers/agent-server.js';
import { allowLoopback, finished } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

const FINAL = /^bucket\.run\.(succeeded|failed|cancelled|timed_out)$/;

describe('a run whose final save was lost', () => {
  let agents: AgentServer;
  let server: InProcessTestServer;
  let owner: Api;
  let core: Api;
  /**
   * Runs whose next final save is refused, as if the lease had gone to another node, each with
   * what happens meanwhile.
   */
  const loseFinalSave = new Map<string, () => Promise<unknown>>();

  beforeAll(async () => {
    agents = await startAgentServer();
    server = await startTestServer({ bucket: { core: { pollMs: 50, leaseMs: 600 } } });
    owner = client(server.url, server.ownerKey);
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    await allowLoopback(owner);
    for (const [name, path] of [
      ['failer', '/fail'],
      ['holder', '/hang'],
    ] as const) {
      const spec = agentSpec(name, agents.url + path, 60_000);
      await core('PUT', `/v1/artifacts/core/agent_spec/${name}.json`, { body: spec });
    }
    const metadata = server.bucket.metadata;
    const saveRun = metadata.saveRun.bind(metadata);
    metadata.saveRun = async (run: RunRecord, owner: string, events: readonly EventDraft[]) => {
      const meanwhile = loseFinalSave.get(run.id);
      if (meanwhile && events.some((event) => FINAL.test(event.type))) {
        loseFinalSave.delete(run.id);
        await meanwhile();
        return false;
      }
      return saveRun(run, owner, events);
    };
  });
  afterAll(async () => {
    await server?.dispose();
    await agents?.close();
  });

  /** Starts a run whose first final save is lost; its id once queued. */
  const startLosing = async (
    path: string,
    input: unknown,
    meanwhile: (id: string) => Promise<unknown> = async () => undefined,
  ): Promise<string> => {
    const pause = server.bucket.core.engine;
    const wake = pause.wake.bind(pause);
    // Held until its id is known, so that its final save is the one refused.
    pause.wake = () => undefined;
    try {
      const started = await owner('POST', path, { body: { input } });
      expect(started.status).toBe(202);
      loseFinalSave.set(started.json.id, () => meanwhile(started.json.id));
      return started.json.id as string;
    } finally {
      pause.wake = wake;
      wake();
    }
  };

  it('keeps the execution_record stored before the lease was lost, earning no threat', async () => {
    const id = await startLosing('/v1/agents/vedic_quiz_agent/runs', { question: 'q' });
    const run = await finished(owner, id);
    expect(loseFinalSave.has(id)).toBe(false);
    expect(run.status).toBe('succeeded');
    expect(run.record).toMatchObject({ class: 'execution_record', version: 1 });
    const record = await core('GET', `/v1/artifacts/core/execution_record/runs/${id}.json`);
    expect(record.json).toMatchObject({ id, status: 'succeeded', finishedAt: run.finishedAt });
    const denied = await owner(
      'GET',
      `/v1/audit/entries?artifact=core/execution_record/runs/${id}.json&decision=deny`,
    );
    expect(denied.json.entries).toEqual([]);
    const threats = await owner('GET', '/v1/audit/entries?principal=bucket:core&threat=T3');
    expect(threats.json.entries).toEqual([]);
  });

  it('ends as its stored record says, though a cancel was requested meanwhile', async () => {
    const input = { transactions: [{ amount: 100 }, { amount: -50 }] };
    const id = await startLosing('/v1/baskets/finance_daily_check/runs', input, (id) =>
      server.bucket.metadata.requestCancel(id, new Date().toISOString()),
    );
    const run = await finished(owner, id);
    expect(run.cancelRequested).toBe(true);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ recommendations: ['Increase savings'] });
    expect(run.record).toMatchObject({ class: 'execution_record', version: 1 });
    const record = await core('GET', `/v1/artifacts/core/execution_record/runs/${id}.json`);
    expect(record.json).toMatchObject({ status: 'succeeded', finishedAt: run.finishedAt });
  });

  it('does not run a failed step again, in a sequential or a parallel basket', async () => {
    for (const strategy of ['sequential', 'parallel']) {
      const name = `failing_${strategy}`;
      const basket = { name, strategy, agents: ['failer', 'holder'], timeoutMs: 60_000 };
      const put = await core('PUT', `/v1/artifacts/core/basket_config/${name}.json`, {
        body: basket,
      });
      expect(put.status).toBe(201);
      const id = await startLosing(`/v1/baskets/${name}/runs`, {});
      const run = await finished(owner, id);
      expect(run.status).toBe('failed');
      expect(run.error.message).toBe('step 1 (failer): the agent answered HTTP 500');
      expect(run.steps[0]).toMatchObject({ status: 'failed', error: { code: 'agent_http_error' } });
      expect(run.steps[1].status).toBe('cancelled');
      expect(agents.calls.filter((call) => call.key === `${id}:1`)).toHaveLength(1);
      // The parallel holder may be cut short before its call; never is it called again.
      const held = agents.calls.filter((call) => call.key === `${id}:2`);
      expect(held.length).toBeLessThanOrEqual(strategy === 'parallel' ? 1 : 0);
      expect(run.record).toMatchObject({ version: 1 });
    }
  });
});
