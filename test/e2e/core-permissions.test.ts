/**
 * Who may run, and who sees which runs (SPEC §11): owner, executor and core keys run anything; a
 * product key runs only baskets listing its product, never single agents, and sees only its own
 * runs (another's is 404); auditors and ai_agent keys run nothing; read_only refuses runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished } from '../helpers/runs.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

describe('core permissions', () => {
  let server: InProcessTestServer;
  let owner: Api;
  let executor: Api;
  let gurukul: Api;
  let avatar: Api;
  let auditor: Api;
  let agentKey: Api;

  beforeAll(async () => {
    server = await startTestServer({ bucket: { core: { pollMs: 50 } } });
    owner = client(server.url, server.ownerKey);
    const key = async (body: { kind: string; product?: string }) =>
      client(server.url, (await createKey(server, body)).key);
    executor = await key({ kind: 'executor' });
    gurukul = await key({ kind: 'product', product: 'gurukul' });
    avatar = await key({ kind: 'product', product: 'ai_avatar' });
    auditor = await key({ kind: 'auditor' });
    agentKey = await key({ kind: 'ai_agent', product: 'gurukul' });
    const coreKey = await key({ kind: 'core' });
    const put = await coreKey('PUT', '/v1/artifacts/core/basket_config/study.json', {
      body: {
        name: 'study',
        strategy: 'sequential',
        agents: ['vedic_quiz_agent'],
        products: ['gurukul'],
      },
    });
    expect(put.status).toBe(201);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const start = (api: Api, path: string, input: unknown = { question: 'capital of India' }) =>
    api('POST', path, { body: { input } });

  it('lets a product key run the baskets that list its product, and only those', async () => {
    const mine = await start(gurukul, '/v1/baskets/study/runs');
    expect(mine.status).toBe(202);
    expect((await finished(gurukul, mine.json.id)).output).toEqual({ answer: 'Delhi' });
    const notListed = await start(avatar, '/v1/baskets/study/runs');
    expect(notListed.status).toBe(403);
    expect((await start(gurukul, '/v1/baskets/finance_daily_check/runs', {})).status).toBe(403);
    expect((await start(gurukul, '/v1/agents/vedic_quiz_agent/runs')).status).toBe(403);
  });

  it('shows a product key its own runs only; others see all', async () => {
    const ownerRun = await start(owner, '/v1/baskets/study/runs');
    await finished(owner, ownerRun.json.id);
    expect((await gurukul('GET', `/v1/runs/${ownerRun.json.id}`)).status).toBe(404);
    const listed = (await gurukul('GET', '/v1/runs')).json.runs;
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.some((run: { id: string }) => run.id === ownerRun.json.id)).toBe(false);
    expect((await avatar('GET', '/v1/runs')).json.runs).toEqual([]);
    // Its runs' events are its product's; the owner's run's events are Core's.
    const events = (await gurukul('GET', '/v1/events?type=bucket.run.&limit=1000')).json.events;
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e: { bucketproduct: string }) => e.bucketproduct === 'gurukul')).toBe(
      true,
    );
    expect(events.some((e: { subject: string }) => e.subject === ownerRun.json.id)).toBe(false);
    expect((await avatar('POST', `/v1/runs/${ownerRun.json.id}/cancel`)).status).toBe(404);
    const all = (await executor('GET', '/v1/runs')).json.runs;
    expect(all.some((run: { id: string }) => run.id === ownerRun.json.id)).toBe(true);
  });

  it('lets executors run; refuses auditors and ai_agent keys before anything', async () => {
    const run = await start(executor, '/v1/agents/vedic_quiz_agent/runs');
    expect(run.status).toBe(202);
    const audited = await start(auditor, '/v1/baskets/study/runs');
    expect(audited.status).toBe(403);
    expect(audited.json.error.decision.allow).toBe(false);
    expect((await auditor('GET', '/v1/runs')).status).toBe(403);
    expect((await start(agentKey, '/v1/baskets/study/runs')).status).toBe(403);
    // Every key lists agents and baskets.
    expect((await auditor('GET', '/v1/agents')).status).toBe(200);
    expect((await agentKey('GET', '/v1/baskets')).status).toBe(200);
  });

  it('refuses runs in read_only (503) and takes them again in normal', async () => {
    const set = (mode: string) =>
      owner('POST', '/v1/governance/mode', { body: { mode, reason: 'test' } });
    expect((await set('read_only')).status).toBe(200);
    const refused = await start(owner, '/v1/baskets/study/runs');
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('bucket_read_only');
    expect((await owner('GET', '/v1/runs')).status).toBe(200);
    expect((await set('normal')).status).toBe(200);
    const run = await start(owner, '/v1/baskets/study/runs');
    expect((await finished(owner, run.json.id)).status).toBe('succeeded');
  });
});
