/**
 * `bucket put --batch FILE.ndjson` (SPEC §15): a file of items sent in batches of --batch-size;
 * failures printed by line with exit 1, the others written; --atomic writes all or nothing;
 * usage errors exit 2.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

const item = (name: string, json: unknown = { name }) =>
  JSON.stringify({ op: 'put', product: 'ai_assistant', class: 'metadata', name, json });

describe('bucket put --batch', () => {
  const cli = cliServer();
  let env: { BUCKET_URL: string; BUCKET_KEY: string };

  beforeAll(async () => {
    env = cli.as((await createKey(cli.server, { kind: 'product', product: 'ai_assistant' })).key);
  });

  it('sends a file in batches and writes every item', async () => {
    const file = join(cli.dir, 'many.ndjson');
    await writeFile(
      file,
      Array.from({ length: 7 }, (_, i) => item(`cli/many/${i}.json`)).join('\n'),
    );
    const result = await runCli(['put', '--batch', file, '--batch-size', '3', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout);
    expect(answer.summary).toEqual({ succeeded: 7, failed: 0 });
    expect(answer.items.map((entry: { index: number }) => entry.index)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
    const listed = await runCli(['ls', 'ai_assistant', '--prefix', 'cli/many/', '--json'], { env });
    expect(JSON.parse(listed.stdout).items).toHaveLength(7);
  });

  it('prints the failed items by line, exits 1, and keeps the others', async () => {
    const file = join(cli.dir, 'mixed.ndjson');
    await writeFile(file, [item('cli/mixed/a.json'), '{oops', item('cli/mixed/b.json')].join('\n'));
    const result = await runCli(['put', '--batch', file], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^2\s+400\s+invalid_batch_item/m);
    expect(result.stdout).toContain('2 of 3 items written, 1 failed');
    expect(result.stderr).toContain('1 of 3 items failed');
  });

  it('writes nothing of an atomic batch with a failed item', async () => {
    const file = join(cli.dir, 'atomic.ndjson');
    const denied = JSON.stringify({
      op: 'put',
      product: 'ai_avatar',
      class: 'avatar_config',
      name: 'x.json',
      json: {},
    });
    await writeFile(file, [item('cli/atomic/a.json'), denied].join('\n'));
    const result = await runCli(['put', '--batch', file, '--atomic'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('0 of 2 items written, 2 failed');
    expect(result.stdout).toMatch(/batch_aborted/);
    expect(result.stderr).toContain('the atomic batch wrote nothing');
    const read = await client(cli.server.url, env.BUCKET_KEY)(
      'GET',
      '/v1/artifacts/ai_assistant/metadata/cli/atomic/a.json',
    );
    expect(read.status).toBe(404);
  });

  it('refuses a batch with an artifact argument, and --atomic without --batch (exit 2)', async () => {
    const withArtifact = await runCli(
      ['put', 'ai_assistant/metadata/a.json', '--batch', 'x.ndjson'],
      { env },
    );
    expect(withArtifact.code).toBe(2);
    expect(withArtifact.stderr).toContain('--batch takes its items from the file');
    const atomicAlone = await runCli(
      ['put', 'ai_assistant/metadata/a.json', 'a.json', '--atomic'],
      {
        env,
      },
    );
    expect(atomicAlone.code).toBe(2);
    const missing = await runCli(['put', '--batch', join(cli.dir, 'none.ndjson')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });
});
