/**
 * `bucket events` (SPEC §10) against a real server: a page as a table or JSON, and --follow
 * printing events as they commit.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BUCKET_BIN } from '../helpers/server-process.js';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

describe('bucket events', () => {
  const cli = cliServer();

  it('lists events as a table or as the JSON page, filtered by type and cursor', async () => {
    const created = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
    const table = await runCli(['events', '--type', 'bucket.key.'], { env: cli.owner });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+TIME\s+TYPE\s+SUBJECT\s+PRODUCT\s+AUDIT$/m);
    expect(table.stdout).toMatch(
      new RegExp(
        `^\\d+\\s+\\S+Z\\s+bucket\\.key\\.created\\s+${created.id}\\s+gurukul\\s+\\d+$`,
        'm',
      ),
    );
    expect(table.stdout).not.toContain('bucket.integration.');
    expect(table.stdout).toMatch(/^next: bucket events --since \d+$/m);

    const json = await runCli(['events', '--json', '--limit', '1'], { env: cli.owner });
    const page = JSON.parse(json.stdout);
    expect(page.events).toHaveLength(1);
    expect(page.events[0]).toMatchObject({ specversion: '1.0', id: '1' });
    const after = JSON.parse(
      (await runCli(['events', '--json', '--since', '1', '--limit', '1'], { env: cli.owner }))
        .stdout,
    );
    expect(after.events[0].id).toBe('2');

    const help = await runCli(['events', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--follow');
  });

  it('follows new events as they commit (--follow --json)', async () => {
    const start = JSON.parse(
      (await runCli(['events', '--json', '--limit', '1000'], { env: cli.owner })).stdout,
    ).nextCursor;
    const child = spawn(
      process.execPath,
      [BUCKET_BIN, 'events', '--follow', '--json', '--since', start],
      {
        env: { ...process.env, ...cli.owner },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines: string[] = [];
      const twoLines = new Promise<void>((resolve) => {
        let buffer = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          buffer += chunk;
          const parts = buffer.split('\n');
          buffer = parts.pop() ?? '';
          lines.push(...parts);
          if (lines.length >= 2) resolve();
        });
      });
      const gurukul = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
      await client(cli.server.url, gurukul.key)(
        'PUT',
        '/v1/artifacts/gurukul/user_progress/follow.json',
        {
          body: '{"lesson":1}',
          headers: { 'content-type': 'application/json' },
        },
      );
      await twoLines;
      const events = lines.map((line) => JSON.parse(line));
      expect(Number(events[0].id)).toBe(Number(start) + 1);
      expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => Number(start) + 1 + i));
    } finally {
      child.kill();
    }
  });
});
