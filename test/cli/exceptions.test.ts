/**
 * `bucket exceptions request|approve|reject|list` (SPEC §9) against a real server: a product key
 * requests with a patch file, the owner approves (the policy changes) or rejects, and a patch that
 * breaks a floor is refused with a message naming it and a non-zero exit.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

async function patchFile(patch: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'bucket-patch-')), 'patch.json');
  await writeFile(file, JSON.stringify(patch));
  return file;
}

const ask = (file: string) => [
  'exceptions',
  'request',
  '--title',
  'launch',
  '--justification',
  'campaign',
  '--patch',
  file,
  '--minutes',
  '60',
];

describe('bucket exceptions', () => {
  const cli = cliServer();

  it('requests as a product, lists, approves and rejects as the owner', async () => {
    const { key } = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    const file = await patchFile([
      { op: 'replace', path: '/products/ai_avatar/quotaBytes', value: 1_000_000 },
    ]);
    const asked = await runCli(ask(file), { env: cli.as(key) });
    expect(asked.code).toBe(0);
    const id = /^exception (\S+): pending/m.exec(asked.stdout)?.[1] ?? '';
    expect(id).not.toBe('');
    expect(asked.stderr).toContain(`bucket exceptions approve ${id}`);

    const listed = await runCli(['exceptions', 'list'], { env: cli.as(key) });
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+pending\\s+ai_avatar\\s+launch`, 'm'));

    const approved = await runCli(['exceptions', 'approve', id, '--reason', 'ok'], {
      env: cli.owner,
    });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^policy version: \d+$/m);
    expect(approved.stdout).toMatch(/^expires at: /m);
    const policy = cli.server.bucket.policies.current().document;
    expect(policy.products['ai_avatar']?.quotaBytes).toBe(1_000_000);

    const second = await runCli(ask(file), { env: cli.as(key) });
    const other = /^exception (\S+):/m.exec(second.stdout)?.[1] ?? '';
    const rejected = await runCli(['exceptions', 'reject', other, '--reason', 'no', '--json'], {
      env: cli.owner,
    });
    expect(JSON.parse(rejected.stdout)).toMatchObject({ id: other, status: 'rejected' });
  });

  it('refuses a patch that breaks a floor, naming it (exit 1)', async () => {
    const file = await patchFile([
      { op: 'replace', path: '/products/workflow_engine/readOnly', value: false },
    ]);
    const refused = await runCli(ask(file), { env: cli.owner });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('invalid_exception');
    expect(refused.stderr).toContain('workflow_engine');
  });
});
