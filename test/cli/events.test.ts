/**
 * `bucket events` (SPEC §10) against a real server: a page as a table or JSON, and --follow
 * printing events as they commit.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BUCKET_BIN } from '../helpers/server-process.js';
import { client, createKey } from '../helpers/server.js';
import { tcpProxy } from '../helpers/proxy.js';
import { cliServer, runCli } from './run.js';

/** Lines of a child's stream as they arrive; `until(n)` resolves once n have. */
function lines(stream: NodeJS.ReadableStream) {
  const seen: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    seen.push(...parts);
    for (const waiter of waiters) if (seen.length >= waiter.count) waiter.resolve();
  });
  return {
    seen,
    until: (count: number) =>
      new Promise<void>((resolve) => {
        if (seen.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
  };
}

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

  it('--follow resumes after its connection is cut, with no event lost or repeated', async () => {
    const start = JSON.parse(
      (await runCli(['events', '--json', '--limit', '1000'], { env: cli.owner })).stdout,
    ).nextCursor;
    const proxy = await tcpProxy(cli.server.url);
    const child = spawn(
      process.execPath,
      [BUCKET_BIN, 'events', '--follow', '--json', '--since', start, '--type', 'bucket.artifact.'],
      {
        env: { ...process.env, ...cli.owner, BUCKET_URL: proxy.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const out = lines(child.stdout);
      const err = lines(child.stderr);
      const gurukul = await createKey(cli.server, { kind: 'product', product: 'gurukul' });
      const put = (name: string) =>
        client(cli.server.url, gurukul.key)('PUT', `/v1/artifacts/gurukul/user_progress/${name}`, {
          body: '{"lesson":1}',
          headers: { 'content-type': 'application/json' },
        });
      await put('before-cut.json');
      await out.until(1);
      proxy.cut();
      await err.until(1);
      expect(err.seen[0]).toMatch(/^stream interrupted .*; resuming after event \d+$/);
      await put('after-cut.json');
      await out.until(2);
      const names = out.seen.map((line) => JSON.parse(line).data.name);
      expect(names).toEqual(['before-cut.json', 'after-cut.json']);
    } finally {
      child.kill();
      await proxy.close();
    }
  });
});
