/**
 * A run's outputs live in its steps' agent_output artifacts only (docs/decisions/0057): the run
 * shows them read through those artifacts, so they follow the artifacts' retention — once the
 * retention sweep purges them, the run still shows its steps, statuses and references, and says
 * that each output was purged. A listing shows runs without their outputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished } from '../helpers/runs.js';
import { client, startTestServer, type InProcessTestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

const DAY = 24 * 3600 * 1000;

describe('a run’s outputs through their artifacts', () => {
  let server: InProcessTestServer;
  let owner: Api;
  let clock = Date.parse('2027-03-01T00:00:00.000Z');

  beforeAll(async () => {
    server = await startTestServer({ bucket: { now: () => clock, core: { pollMs: 50 } } });
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('shows the outputs until the sweep purges them, then says they were purged', async () => {
    const input = { transactions: [{ amount: 100 }, { amount: -50 }] };
    const started = await owner('POST', '/v1/baskets/finance_daily_check/runs', {
      body: { input },
    });
    const run = await finished(owner, started.json.id);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ recommendations: ['Increase savings'] });
    expect(run.steps[0].output).toEqual({ analysis: { total: 50, positive: 100, negative: -50 } });

    const listed = (await owner('GET', '/v1/runs?basket=finance_daily_check')).json.runs;
    const item = listed.find((r: { id: string }) => r.id === run.id);
    expect(item).toMatchObject({ status: 'succeeded', steps: [{ status: 'succeeded' }, {}] });
    expect(item).not.toHaveProperty('output');
    expect(item.steps[0]).not.toHaveProperty('output');
    expect(item.steps[0].artifact).toEqual(run.steps[0].artifact);

    // agent_output (and execution_record) keep a year (governance, expire), then go.
    clock += 367 * DAY;
    const swept = await owner('POST', '/v1/governance/retention/sweep', {
      body: { dryRun: false },
    });
    expect(swept.status).toBe(200);
    const purged = swept.json.purged.map((p: { name: string }) => p.name);
    expect(purged).toContain(run.steps[0].artifact.name);

    const after = (await owner('GET', `/v1/runs/${run.id}`)).json;
    expect(after.status).toBe('succeeded');
    expect(after).not.toHaveProperty('output');
    expect(after.outputUnavailable).toBe('purged');
    for (const [index, step] of after.steps.entries()) {
      expect(step).not.toHaveProperty('output');
      expect(step).toMatchObject({
        status: 'succeeded',
        outputUnavailable: 'purged',
        artifact: run.steps[index].artifact,
      });
    }
    expect(after.input).toEqual(input);
    expect(after.record).toEqual(run.record);
  });
});
