/**
 * `bucket keys s3-credentials create|list|revoke` (SPEC §13) against a real server: the secret
 * printed once, the list without it, a revocation shown as such, and no key but the owner's.
 */
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket keys s3-credentials', () => {
  const cli = cliServer();

  it('creates, lists and revokes a key S3 credential', async () => {
    const { key, id } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    const created = await runCli(['keys', 's3-credentials', 'create', id], { env: cli.owner });
    expect(created.code, created.stderr).toBe(0);
    const accessKeyId = /aws_access_key_id = ([A-Z0-9]{20})$/m.exec(created.stdout)?.[1];
    const secret = /aws_secret_access_key = (\S{40})$/m.exec(created.stdout)?.[1];
    expect(accessKeyId).toBeDefined();
    expect(secret).toBeDefined();

    const listed = await runCli(['keys', 's3-credentials', 'list', id], { env: cli.owner });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${accessKeyId}\\s+active\\s`, 'm'));
    expect(listed.stdout).not.toContain(secret);

    const revoked = await runCli(['keys', 's3-credentials', 'revoke', id, accessKeyId ?? ''], {
      env: cli.owner,
    });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked S3 credential ${accessKeyId} of key ${id}`);
    const after = await runCli(['keys', 's3-credentials', 'list', id], { env: cli.owner });
    expect(after.stdout).toMatch(new RegExp(`^${accessKeyId}\\s+revoked\\s`, 'm'));

    const refused = await runCli(['keys', 's3-credentials', 'create', id], { env: cli.as(key) });
    expect(refused.code).toBe(1);
  });
});
