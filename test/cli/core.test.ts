/**
 * `bucket agents`, `bucket baskets list|show|run --follow`, `bucket runs show|list|cancel`
 * (SPEC §11) against a real server: a basket run followed to its end, a failing run exiting 1
 * with its failing step, runs listed page by page with `--cursor`, and clear errors for what does
 * not exist.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

async function inputFile(input: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'bucket-input-')), 'input.json');
  await writeFile(file, JSON.stringify(input));
  return file;
}

describe('bucket agents, baskets and runs', () => {
  const cli = cliServer();

  it('lists agents and baskets, and shows a basket', async () => {
    const agents = await runCli(['agents'], { env: cli.owner });
    expect(agents.code).toBe(0);
    expect(agents.stdout).toMatch(/^cashflow_analyzer\s+builtin\s+1\.0\.0/m);
    const baskets = await runCli(['baskets', 'list'], { env: cli.owner });
    expect(baskets.stdout).toMatch(/^vehicle_care\s+parallel/m);
    const shown = await runCli(['baskets', 'show', 'finance_daily_check'], { env: cli.owner });
    expect(shown.stdout).toContain('agents: cashflow_analyzer → goal_recommender');
    const missing = await runCli(['baskets', 'show', 'nope'], { env: cli.owner });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('basket_not_found');
  });

  it('runs a basket and follows it to the end; shows and lists the run', async () => {
    const file = await inputFile({ transactions: [{ amount: 100 }, { amount: -50 }] });
    const run = await runCli(
      ['baskets', 'run', 'finance_daily_check', '--input', file, '--follow'],
      { env: cli.owner },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1. cashflow_analyzer: succeeded');
    expect(run.stdout).toContain('output: {"recommendations":["Increase savings"]}');
    const id = /^run (\S+) \(finance_daily_check\): succeeded/m.exec(run.stdout)?.[1] ?? '';
    expect(id).not.toBe('');
    const shown = await runCli(['runs', 'show', id, '--json'], { env: cli.owner });
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, status: 'succeeded' });
    const listed = await runCli(['runs', 'list', '--basket', 'finance_daily_check'], {
      env: cli.owner,
    });
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+finance_daily_check\\s+succeeded`, 'm'));
    const cancelled = await runCli(['runs', 'cancel', id], { env: cli.owner });
    expect(cancelled.stdout).toContain(`run ${id}: succeeded`);
  });

  it('exits 1 with the reason when the input is refused or the run fails', async () => {
    const file = await inputFile({ transactions: [{ id: 1 }] });
    const refused = await runCli(['baskets', 'run', 'finance_daily_check', '--input', file], {
      env: cli.owner,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('invalid_run');
    const badJson = await runCli(['baskets', 'run', 'vehicle_care', '--input', '/nonexistent'], {
      env: cli.owner,
    });
    expect(badJson.code).toBe(2);
    const { key } = await createKey(cli.server, { kind: 'core' });
    const put = await client(cli.server.url, key)(
      'PUT',
      '/v1/artifacts/core/basket_config/practice.json',
      {
        body: {
          name: 'practice',
          strategy: 'sequential',
          agents: ['vedic_quiz_agent', 'sanskrit_parser'],
        },
      },
    );
    expect(put.status).toBe(201);
    const failing = await runCli(
      ['baskets', 'run', 'practice', '--input', await inputFile({ question: 'q' }), '--follow'],
      { env: cli.owner },
    );
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('2. sanskrit_parser: failed');
    expect(failing.stderr).toMatch(/run \S+ failed: invalid_input: step 2 \(sanskrit_parser\)/);
  });

  it('lists runs page by page: the next cursor printed, --cursor continuing', async () => {
    for (let i = 0; i < 3; i++) {
      const run = await runCli(['baskets', 'run', 'finance_daily_check', '--follow'], {
        env: cli.owner,
      });
      expect(run.code).toBe(0);
    }
    const basket = ['--basket', 'finance_daily_check'];
    const first = await runCli(['runs', 'list', ...basket, '--limit', '2'], { env: cli.owner });
    expect(first.code).toBe(0);
    const firstIds = [...first.stdout.matchAll(/^(\S+)\s+finance_daily_check/gm)].map((m) => m[1]);
    expect(firstIds).toHaveLength(2);
    const cursor = /--cursor '([^']+)'/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const json = await runCli(['runs', 'list', ...basket, '--limit', '2', '--json'], {
      env: cli.owner,
    });
    expect(JSON.parse(json.stdout).nextCursor).toBe(cursor);
    const next = await runCli(
      ['runs', 'list', ...basket, '--limit', '2', '--cursor', cursor ?? ''],
      { env: cli.owner },
    );
    expect(next.code).toBe(0);
    const nextIds = [...next.stdout.matchAll(/^(\S+)\s+finance_daily_check/gm)].map((m) => m[1]);
    expect(nextIds.length).toBeGreaterThan(0);
    expect(nextIds.some((id) => firstIds.includes(id))).toBe(false);
    const bad = await runCli(['runs', 'list', '--cursor', 'zzz'], { env: cli.owner });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_cursor');
  });
});
