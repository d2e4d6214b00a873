import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvedIntegration,
  createKey,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';
import { runCli } from './run.js';

describe('bucket keys', () => {
  let server: TestServer;
  let owner: { BUCKET_URL: string; BUCKET_KEY: string };

  beforeAll(async () => {
    server = await startTestServer();
    owner = { BUCKET_URL: server.url, BUCKET_KEY: server.ownerKey };
  });
  afterAll(async () => server?.dispose());

  it('creates a key, shows its secret once, lists it, and revokes it at once', async () => {
    const integration = await approvedIntegration(server, 'gurukul');
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
      { env: owner },
    );
    expect(created.code).toBe(0);
    const id = /created product key (key_\w+) for gurukul \("lesson uploader"\)/.exec(
      created.stdout,
    )?.[1];
    const secret = /^\s+(bkt_\S+)$/m.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    expect(created.stdout).toContain('will not be shown again');

    const asGurukul = { BUCKET_URL: server.url, BUCKET_KEY: secret ?? '' };
    const works = await runCli(['ls', 'gurukul'], { env: asGurukul });
    expect(works.code).toBe(0);

    const listed = await runCli(['keys', 'list'], { env: owner });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+KIND\s+PRODUCT\s+STATUS\s+CREATED\s+EXPIRES\s+NAME$/m);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}\\s+product\\s+gurukul\\s+active\\s.*lesson uploader$`, 'm'),
    );
    expect(listed.stdout).not.toContain(secret);

    const revoked = await runCli(['keys', 'revoke', id ?? ''], { env: owner });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked key ${id} \\("lesson uploader"\\)`));

    const refused = await runCli(['ls', 'gurukul'], { env: asGurukul });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^bucket: unauthenticated: .*\(request req_\w+\)$/m);
    expect(refused.stderr).toContain('check BUCKET_KEY');

    const after = await runCli(['keys', 'list', '--json'], { env: owner });
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
      { env: owner },
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
    const listed = await runCli(['keys', 'list', '--url', server.url, '--key', server.ownerKey], {
      env: { BUCKET_URL: 'http://127.0.0.1:1', BUCKET_KEY: 'bkt_not_this_one' },
    });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('key_owner');
  });

  it('a product key may not manage keys: the denial and its reasons are printed', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    const result = await runCli(['keys', 'list'], {
      env: { BUCKET_URL: server.url, BUCKET_KEY: key },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bucket: forbidden: .*\(request req_\w+\)$/m);
    expect(result.stderr).toMatch(/^ {2}reason: action_access: /m);
    expect(result.stderr).toMatch(/^ {2}threat: T4 Governance circumvention \(HIGH\): /m);
  });

  it('refuses bad arguments locally with exit 2, and server-side refusals with exit 1', async () => {
    const badKind = await runCli(['keys', 'create', '--kind', 'root', '--name', 'x'], {
      env: owner,
    });
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain("argument 'root' is invalid");

    const noName = await runCli(['keys', 'create', '--kind', 'auditor'], { env: owner });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("required option '--name <name>' not specified");

    const badExpiry = await runCli(
      ['keys', 'create', '--kind', 'auditor', '--name', 'x', '--expires', 'soon'],
      { env: owner },
    );
    expect(badExpiry.code).toBe(2);

    const noProduct = await runCli(['keys', 'create', '--kind', 'product', '--name', 'x'], {
      env: owner,
    });
    expect(noProduct.code).toBe(1);
    expect(noProduct.stderr).toMatch(/^bucket: invalid_request: a product key needs a product/m);

    const unknown = await runCli(['keys', 'revoke', 'key_does_not_exist'], { env: owner });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^bucket: key_not_found: /m);
  });
});
