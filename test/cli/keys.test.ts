import { describe, expect, it } from 'vitest';
import { approvedIntegration, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket keys', () => {
  const cli = cliServer();

  it('creates a key, shows its secret once, lists it, and revokes it at once', async () => {
    const integration = await approvedIntegration(cli.server, 'gurukul');
    const created = await runCli(
      [
        'keys',
        'create',
        '--kind',
        'product',
        '--product',
        'gurukul',
        '--integration',
        integration,
        '--name',
        'lesson uploader',
      ],
      { env: cli.owner },
    );
    expect(created.code).toBe(0);
    const id = /created product key (key_\w+) for gurukul \("lesson uploader"\)/.exec(
      created.stdout,
    )?.[1];
    const secret = /^\s+(bkt_\S+)$/m.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    expect(created.stdout).toContain('will not be shown again');

    const asGurukul = cli.as(secret ?? '');
    const works = await runCli(['ls', 'gurukul'], { env: asGurukul });
    expect(works.code).toBe(0);

    const listed = await runCli(['keys', 'list'], { env: cli.owner });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+KIND\s+PRODUCT\s+STATUS\s+CREATED\s+EXPIRES\s+NAME$/m);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}\\s+product\\s+gurukul\\s+active\\s.*lesson uploader$`, 'm'),
    );
    expect(listed.stdout).not.toContain(secret);

    const revoked = await runCli(['keys', 'revoke', id ?? ''], { env: cli.owner });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked key ${id} \\("lesson uploader"\\)`));

    const refused = await runCli(['ls', 'gurukul'], { env: asGurukul });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^bucket: unauthenticated: .*\(request req_\w+\)$/m);
    expect(refused.stderr).toContain('check BUCKET_KEY');

    const after = await runCli(['keys', 'list', '--json'], { env: cli.owner });
    const keys: { id: string; status: string }[] = JSON.parse(after.stdout).keys;
    expect(keys.find((key) => key.id === id)?.status).toBe('revoked');
  });

  it('keys create --json returns the server answer, with --expires as ISO-8601', async () => {
    const created = await runCli(
      [
        'keys',
        'create',
        '--kind',
        'auditor',
        '--name',
        'audit team',
        '--expires',
        '2099-01-31',
        '--json',
      ],
      { env: cli.owner },
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      kind: 'auditor',
      name: 'audit team',
      product: null,
      expiresAt: '2099-01-31T00:00:00.000Z',
      key: expect.stringMatching(/^bkt_/),
    });
  });

  it('--url and --key override the environment', async () => {
    const listed = await runCli(
      ['keys', 'list', '--url', cli.server.url, '--key', cli.server.ownerKey],
      {
        env: { BUCKET_URL: 'http://127.0.0.1:1', BUCKET_KEY: 'bkt_not_this_one' },
      },
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('key_owner');
  });

  it('a product key may not manage keys: the denial and its reasons are printed', async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_assistant' });
    const result = await runCli(['keys', 'list'], {
      env: cli.as(key),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bucket: forbidden: .*\(request req_\w+\)$/m);
    expect(result.stderr).toMatch(/^ {2}reason: action_access: /m);
    expect(result.stderr).toMatch(/^ {2}threat: T4 Governance circumvention \(HIGH\): /m);
  });

  it('refuses bad arguments locally with exit 2, and server-side refusals with exit 1', async () => {
    const badKind = await runCli(['keys', 'create', '--kind', 'root', '--name', 'x'], {
      env: cli.owner,
    });
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain("argument 'root' is invalid");

    const noName = await runCli(['keys', 'create', '--kind', 'auditor'], { env: cli.owner });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("required option '--name <name>' not specified");

    const badExpiry = await runCli(
      ['keys', 'create', '--kind', 'auditor', '--name', 'x', '--expires', 'soon'],
      { env: cli.owner },
    );
    expect(badExpiry.code).toBe(2);

    const noProduct = await runCli(['keys', 'create', '--kind', 'product', '--name', 'x'], {
      env: cli.owner,
    });
    expect(noProduct.code).toBe(1);
    expect(noProduct.stderr).toMatch(/^bucket: invalid_request: a product key needs a product/m);

    const unknown = await runCli(['keys', 'revoke', 'key_does_not_exist'], { env: cli.owner });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bucket: key_not_found: /m);
  });
});
