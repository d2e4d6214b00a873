/**
 * `bucket certify` (SPEC §9) against a real server: the checks as a table, exit 0 while certified
 * (any key), exit 1 with the failing checks named once a mechanism broke, and the whole answer
 * with --json.
 */
import { describe, expect, it } from 'vitest';
import { liveSql } from '../helpers/live-sql.js';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket certify', () => {
  const cli = cliServer({ bucket: { scrubThrottle: { share: 1, bytesPerSecond: 0 } } });

  it('prints every check as a table and exits 0 while certified, for any key', async () => {
    const scrub = await runCli(['scrub', '--wait'], { env: cli.owner });
    expect(scrub.code, scrub.stderr).toBe(0);
    const { key } = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    cli.server.bucket.certification.invalidate();
    const shown = await runCli(['certify'], { env: cli.as(key) });
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+EVIDENCE$/m);
    expect(shown.stdout).toMatch(/^G1\s+immutability\s+pass\s+\{/m);
    expect(shown.stdout).toMatch(/^L5\s+artifacts_capacity_limit\s+pass\s+/m);
    expect(shown.stdout).toMatch(/^certified at /m);
  });

  it('exits 1 and names the failing check once the schema drifted', async () => {
    await liveSql(cli.server, 'CREATE INDEX certify_cli_probe ON versions (size)');
    cli.server.bucket.certification.invalidate();
    const text = await runCli(['certify'], { env: cli.owner });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^G6\s+no_silent_changes\s+FAIL\s+/m);
    expect(text.stderr).toMatch(/failing: G6/);
    const json = await runCli(['certify', '--json'], { env: cli.owner });
    expect(json.code).toBe(1);
    const answer = JSON.parse(json.stdout);
    expect(answer.status).toBe('not_certified');
    expect(answer.checks).toHaveLength(32);
  });

  it('refuses without a key, with a next step', async () => {
    const refused = await runCli(['certify'], { env: { BUCKET_URL: cli.server.url } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/BUCKET_KEY|key/);
  });
});
