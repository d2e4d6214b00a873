/**
 * `bucket mode` and `bucket incidents` (SPEC §9) against a real server: any key reads the mode,
 * the owner switches it (a reason required, a mode it knows), incidents are listed and resolved,
 * and every refusal is a clear message with a non-zero exit.
 */
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket mode and bucket incidents', () => {
  const cli = cliServer();

  it('shows the mode to any key and lets the owner switch it and back', async () => {
    const { key } = await createKey(cli.server, { kind: 'auditor' });
    const shown = await runCli(['mode'], { env: cli.as(key) });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^mode: normal$/m);
    expect(shown.stdout).toMatch(/^by: system$/m);

    const refused = await runCli(['mode', 'set', 'halted', '--reason', 'not mine'], {
      env: cli.as(key),
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^bucket: forbidden: auditor keys may not perform mode\.set/m);

    const set = await runCli(['mode', 'set', 'read_only', '--reason', 'disk check'], {
      env: cli.owner,
    });
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^mode: read_only$/m);
    expect(set.stdout).toMatch(/^reason: disk check$/m);
    expect(set.stderr).toContain('bucket mode set normal');
    const json = await runCli(['mode', '--json'], { env: cli.as(key) });
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'read_only', reason: 'disk check' });
    const back = await runCli(['mode', 'set', 'normal', '--reason', 'checked'], { env: cli.owner });
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/^mode: normal$/m);
  });

  it('refuses an unknown mode or a missing reason as usage errors (exit 2)', async () => {
    const unknown = await runCli(['mode', 'set', 'off', '--reason', 'x'], { env: cli.owner });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Allowed choices are normal, read_only, halted');
    const noReason = await runCli(['mode', 'set', 'halted'], { env: cli.owner });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>'");
  });

  it('lists incidents and resolves one, saying the mode stays read_only', async () => {
    const opened = await cli.server.bucket.incidents.open('integrity', { sha256: 'cd'.repeat(32) });
    const listed = await runCli(['incidents', '--open'], { env: cli.owner });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+KIND\s+STATUS\s+DETECTED\s+RESOLUTION\s+EVIDENCE$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${opened.id}\\s+integrity\\s+open\\s`, 'm'));
    const mode = await runCli(['mode'], { env: cli.owner });
    expect(mode.stdout).toMatch(new RegExp(`^incident: ${opened.id} `, 'm'));

    const resolved = await runCli(
      ['incidents', 'resolve', opened.id, '--resolution', 'blob restored'],
      { env: cli.owner },
    );
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toMatch(new RegExp(`^resolved incident ${opened.id} \\(integrity\\)`));
    expect(resolved.stderr).toContain('the Bucket stays read_only');
    const again = await runCli(['incidents', 'resolve', opened.id, '--resolution', 'again'], {
      env: cli.owner,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^bucket: incident_resolved: /m);
    const none = await runCli(['incidents', 'list', '--open'], { env: cli.owner });
    expect(none.stdout.trim()).toBe('no open incidents');
    await runCli(['mode', 'set', 'normal', '--reason', 'done'], { env: cli.owner });
  });
});
