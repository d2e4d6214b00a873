/**
 * `bucket holds place|list|lift` and `bucket retention set|sweep` (SPEC §8) against a real
 * server, as a user runs them: a hold refuses a tombstone until it is lifted, a retention change
 * prints the old and new ends (and compliance refuses to shorten), the sweep reports what it
 * would purge and does it.
 */
import { describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('bucket holds and bucket retention', () => {
  const cli = cliServer();

  it('places, lists and lifts a hold; a held basket cannot be tombstoned meanwhile', async () => {
    const { key } = await createKey(cli.server, { kind: 'core' });
    const core = client(cli.server.url, key);
    const path = '/v1/artifacts/core/basket_config/cli/held.json';
    expect(
      (await core('PUT', path, { body: '{"strategy":"x"}', headers: JSON_HEADERS })).status,
    ).toBe(201);

    const placed = await runCli(
      [
        'holds',
        'place',
        '--product',
        'core',
        '--prefix',
        'cli/',
        '--case',
        'ACME-7',
        '--reason',
        'suit',
      ],
      { env: cli.owner },
    );
    expect(placed.code, placed.stderr).toBe(0);
    const id = /placed legal hold (\S+) on core\/\*\/cli\/\* \(case ACME-7\)/.exec(
      placed.stdout,
    )?.[1];
    expect(id).toBeDefined();

    const refused = await runCli(['rm', 'core/basket_config/cli/held.json'], { env: cli.as(key) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/legal_hold/);

    const listed = await runCli(['holds', 'list', '--active'], { env: cli.owner });
    expect(listed.stdout).toMatch(/^ID\s+SCOPE\s+CASE\s+PLACED\s+LIFTED\s+REASON$/m);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}\\s+core/\\*/cli/\\*\\s+ACME-7\\s+\\S+\\s+active\\s+suit$`, 'm'),
    );

    const lifted = await runCli(['holds', 'lift', id ?? '', '--reason', 'settled'], {
      env: cli.owner,
    });
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.stdout).toMatch(/^lifted legal hold \S+ \(case ACME-7\) at \S+Z$/m);
    expect((await runCli(['holds', 'list', '--active'], { env: cli.owner })).stdout).toContain(
      'no legal holds',
    );
    expect(
      (await runCli(['rm', 'core/basket_config/cli/held.json'], { env: cli.as(key) })).code,
    ).toBe(0);

    const usage = await runCli(['holds', 'place', '--case', 'C', '--reason', 'r'], {
      env: cli.owner,
    });
    expect(usage.code).toBe(2);
    const help = await runCli(['holds', 'place', '--help']);
    expect(help.stdout).toContain('--subject <id>');
  });

  it('sets retention, refuses to shorten compliance, and sweeps', async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    const gurukul = client(cli.server.url, key);
    const path = '/v1/artifacts/gurukul/user_progress/cli/p.json';
    expect((await gurukul('PUT', path, { body: '{"p":1}', headers: JSON_HEADERS })).status).toBe(
      201,
    );

    const past = await runCli(
      [
        'retention',
        'set',
        'gurukul/user_progress/cli/p.json',
        '--until',
        '2020-01-01T00:00:00Z',
        '--reason',
        'erase early',
      ],
      { env: cli.owner },
    );
    expect(past.code, past.stderr).toBe(0);
    expect(past.stdout).toMatch(
      /^gurukul\/user_progress\/cli\/p\.json v1: governance until 2020-01-01T00:00:00\.000Z \(was governance until \S+\)$/m,
    );

    const preview = await runCli(['retention', 'sweep', '--dry-run'], { env: cli.owner });
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/^would purge 1 version\(s\)/m);
    expect(preview.stdout).toMatch(
      /^gurukul\/user_progress\/cli\/p\.json\s+v1\s+retention_expired\s/m,
    );
    const swept = await runCli(['retention', 'sweep'], { env: cli.owner });
    expect(swept.stdout).toMatch(/^purged 1 version\(s\)/m);
    expect((await gurukul('GET', path)).status).toBe(410);

    const assistantKey = await createKey(cli.server, { kind: 'product', product: 'ai_assistant' });
    const assistant = client(cli.server.url, assistantKey.key);
    const meta = '/v1/artifacts/ai_assistant/metadata/cli/m.json';
    expect((await assistant('PUT', meta, { body: '{"m":1}', headers: JSON_HEADERS })).status).toBe(
      201,
    );
    const refused = await runCli(
      [
        'retention',
        'set',
        'ai_assistant/metadata/cli/m.json',
        '--until',
        '2020-01-01T00:00:00Z',
        '--reason',
        'no',
      ],
      { env: cli.owner },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/compliance_retention/);
    const both = await runCli(
      [
        'retention',
        'set',
        'ai_assistant/metadata/cli/m.json',
        '--permanent',
        '--until',
        '2030-01-01',
        '--reason',
        'x',
      ],
      { env: cli.owner },
    );
    expect(both.code).toBe(2);
  });
});
