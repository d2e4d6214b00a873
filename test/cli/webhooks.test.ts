/**
 * `bucket webhooks create|list|rm|deliveries` (SPEC §10) against a real server: the secret printed
 * once, the list without it, the delivery log of a webhook whose target the egress rules refuse,
 * and clear errors.
 */
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket webhooks', () => {
  const cli = cliServer({
    bucket: { webhooks: { retry: { baseMs: 50, maxMs: 100 }, pollMs: 50 } },
  });

  it('creates a webhook, printing its secret once, and lists it without the secret', async () => {
    const created = await runCli(
      [
        'webhooks',
        'create',
        'https://hooks.example.com/in',
        '--type',
        'bucket.key.',
        '--type',
        'bucket.policy.',
      ],
      { env: cli.owner },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      /^created webhook wh_[0-9a-f]{16}: bucket\.key\., bucket\.policy\. → https:\/\/hooks\.example\.com\/in$/m,
    );
    const secret = /^\s+(whsec_\S+)$/m.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(created.stdout).toMatch(/shown once/);

    const list = await runCli(['webhooks', 'list'], { env: cli.owner });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+STATUS\s+TYPES\s+PRODUCT\s+CURSOR\s+FAILURES\s+URL$/m);
    expect(list.stdout).toMatch(/wh_[0-9a-f]{16}\s+active\s+bucket\.key\.,bucket\.policy\.\s+-/);
    expect(list.stdout).not.toContain(secret);

    const id = /wh_[0-9a-f]{16}/.exec(created.stdout)?.[0] ?? '';
    const removed = await runCli(['webhooks', 'rm', id], { env: cli.owner });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`deleted webhook ${id}`);
    const again = await runCli(['webhooks', 'rm', id], { env: cli.owner });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/webhook_not_found|No such webhook/);
  });

  it('shows the delivery log: each attempt with its status or error', async () => {
    const created = await runCli(
      ['webhooks', 'create', 'http://localhost:9/hook', '--type', 'bucket.key.', '--json'],
      { env: cli.owner },
    );
    expect(created.code, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout);
    await createKey(cli.server, { kind: 'auditor' });
    let log: { stdout: string; code: number | null; stderr: string } = {
      stdout: '',
      code: 0,
      stderr: '',
    };
    for (let i = 0; i < 100 && !/egress refused/.test(log.stdout); i++) {
      log = await runCli(['webhooks', 'deliveries', id], { env: cli.owner });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/^ID\s+EVENT\s+ATTEMPT\s+AT\s+STATUS\s+TOOK\s+ERROR$/m);
    expect(log.stdout).toMatch(/^\d+\s+\d+\s+1\s+\S+Z\s+-\s+\d+ ms\s+egress refused: localhost/m);
  });

  it('explains what is wrong', async () => {
    const noType = await runCli(['webhooks', 'create', 'https://hooks.example.com/'], {
      env: cli.owner,
    });
    expect(noType.code).toBe(2);
    expect(noType.stderr).toMatch(/--type/);
    const ftp = await runCli(['webhooks', 'create', 'ftp://example.com/', '--type', 'bucket.'], {
      env: cli.owner,
    });
    expect(ftp.code).toBe(1);
    expect(ftp.stderr).toMatch(/http:\/\/ or https:\/\//);
    const auditor = await createKey(cli.server, { kind: 'auditor' });
    const denied = await runCli(['webhooks', 'list'], { env: cli.as(auditor.key) });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/403|forbidden|Denied/i);
    const help = await runCli(['webhooks', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Standard Webhooks/);
    expect(help.stdout).toMatch(/Examples:/);
  });
});
