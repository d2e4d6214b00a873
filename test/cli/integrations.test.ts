import { describe, expect, it } from 'vitest';
import { client } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket integrations', () => {
  const cli = cliServer();

  const propose = (id: string, extra: string[] = []) =>
    runCli(
      [
        'integrations',
        'propose',
        '--id',
        id,
        '--type',
        'sdk',
        '--product',
        'gurukul',
        '--classes',
        'educational_content,user_progress',
        '--content-filter',
        'lessons only',
        '--retention-policy',
        'per class',
        ...extra,
      ],
      { env: cli.owner },
    );

  it('proposes an approved integration, lists it, lets a key act through it, and revokes it', async () => {
    const approved = await propose('lessons-cli');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^approved integration lessons-cli$/m);
    expect(approved.stdout).toContain('--integration lessons-cli');

    const listed = await runCli(['integrations', 'list'], { env: cli.owner });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^lessons-cli\s+gurukul\s+sdk\s+approved\s+/m);

    const key = await runCli(
      [
        'keys',
        'create',
        '--kind',
        'product',
        '--product',
        'gurukul',
        '--integration',
        'lessons-cli',
        '--name',
        'cli lessons',
        '--json',
      ],
      { env: cli.owner },
    );
    expect(key.code).toBe(0);
    const secret = JSON.parse(key.stdout).key as string;
    const api = client(cli.server.url, secret);
    expect((await api('GET', '/v1/artifacts/gurukul')).status).toBe(200);

    const revoked = await runCli(['integrations', 'revoke', 'lessons-cli'], { env: cli.owner });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked integration lessons-cli and its keys/m);
    expect((await api('GET', '/v1/artifacts/gurukul')).status).toBe(401);
  });

  it('prints every reason and threat of a rejected proposal and exits 1', async () => {
    const rejected = await runCli(
      [
        'integrations',
        'propose',
        '--id',
        'raw-db',
        '--type',
        'direct_database',
        '--product',
        'gurukul',
        '--classes',
        'payment_info',
      ],
      { env: cli.owner },
    );
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(/^rejected integration raw-db$/m);
    expect(rejected.stdout).toMatch(/^threat: T1 /m);
    expect(rejected.stdout).toMatch(/^reason: /m);
    expect(rejected.stderr).toMatch(/integration raw-db was rejected/);
  });

  it('refuses an unreadable schema file before sending anything (exit 2)', async () => {
    const result = await propose('bad-schema', ['--schema-file', '/nonexistent/schema.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the data schema/);
  });
});
