/**
 * `bucket scrub` and `bucket drift` (SPEC §9) against a real server: a scrub started and followed
 * to its end, shown by id (text and JSON), a drift table that exits 0 while clean and 1 once the
 * schema was changed by hand, and clear refusals.
 */
import { describe, expect, it } from 'vitest';
import { liveSql } from '../helpers/live-sql.js';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket scrub and bucket drift', () => {
  const cli = cliServer({ bucket: { scrubThrottle: { share: 1, bytesPerSecond: 0 } } });

  it('starts a scrub, follows it with --wait, and shows it by id', async () => {
    const waited = await runCli(['scrub', '--wait'], { env: cli.owner });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(/^status: passed$/m);
    expect(waited.stdout).toMatch(/^checked: \d+ contents, \d+ entries, \d+ versions$/m);
    const id = /^scrub: (scr_[0-9a-f]+)$/m.exec(waited.stdout)?.[1];
    expect(id).toBeDefined();
    const shown = await runCli(['scrub', 'show', id ?? '', '--json'], { env: cli.owner });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, status: 'passed', problems: [] });
    const started = await runCli(['scrub', 'start', '--json'], { env: cli.owner });
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ status: 'running' });
  });

  it('refuses an unknown scrub and a key that may not start one', async () => {
    const missing = await runCli(['scrub', 'show', 'scr_missing'], { env: cli.owner });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^bucket: scrub_not_found: /m);
    const { key } = await createKey(cli.server, { kind: 'auditor' });
    const refused = await runCli(['scrub'], { env: cli.as(key) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forbidden: auditor keys may not perform scrub\.start/);
  });

  it('prints drift as a table, exit 0 while clean and 1 once drifted', async () => {
    const clean = await runCli(['drift'], { env: cli.owner });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^drift: clean$/m);
    expect(clean.stdout).toMatch(/^COMPONENT\s+LIVE\s+EXPLAINED\s+EXPLANATION$/m);
    expect(clean.stdout).toMatch(/^database_schema\s+same\s+yes\s+-$/m);
    await liveSql(cli.server, 'CREATE INDEX drift_cli_probe ON versions (size)');
    const drifted = await runCli(['drift', '--json'], { env: cli.owner });
    expect(drifted.code).toBe(1);
    const answer = JSON.parse(drifted.stdout);
    expect(answer.status).toBe('drifted');
    expect(answer.checks[0]).toMatchObject({ component: 'database_schema', explained: false });
  });
});
