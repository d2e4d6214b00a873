/**
 * `bucket audit entries` against a real server whose log is longer than one scan window (20,000
 * entries; this server's window is made 200, so that 700 requests fill more than three): a filter
 * no index answers leaves the server's first pages empty, and the command follows them to the
 * entry it asked for.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { raiseRates } from '../helpers/limits.js';
import { client, createKey } from '../helpers/server.js';
import { cliServer, runCli } from './run.js';

const ARTIFACT = '/v1/artifacts/ai_avatar/avatar_config/read-me.json';
/** The server's scan window, instead of AUDIT_SCAN_WINDOW: the same paging, 100 × fewer writes. */
const SCAN_WINDOW = 200;
/** Past the first windows, so that the rare key's entry is not on the server's first pages. */
const READS = SCAN_WINDOW * 3 + 100;

describe('bucket audit entries', () => {
  const cli = cliServer();
  let ownerEnv: { BUCKET_URL: string; BUCKET_KEY: string };
  let rare: { id: string; key: string };

  beforeAll(async () => {
    await raiseRates(cli.server);
    ownerEnv = cli.as(cli.server.ownerKey);
    const reader = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    const api = client(cli.server.url, reader.key);
    const put = await api('PUT', ARTIFACT, {
      body: '{"greeting":"hello"}',
      headers: { 'content-type': 'application/json' },
    });
    if (put.status !== 201) throw new Error(`PUT: ${put.status}`);
    // Every read is an audit entry: fill the log past three scan windows, 50 reads at a time.
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < READS) {
          next++;
          const answer = await api('GET', ARTIFACT);
          if (answer.status !== 200) throw new Error(`GET: ${answer.status}`);
        }
      }),
    );
    rare = await createKey(cli.server, { kind: 'product', product: 'ai_avatar' });
    const denied = await client(cli.server.url, rare.key)('GET', '/v1/artifacts/gurukul');
    if (denied.status !== 403) throw new Error(`cross-product list: ${denied.status}`);
  }, 120_000);

  it("follows the server's short pages to a key's only entry, far into the log", async () => {
    const result = await runCli(['audit', 'entries', '--principal', rare.id], { env: ownerEnv });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const [index, , decision, status, , principal, target, threats] = (lines[0] ?? '')
      .trim()
      .split(/\s+/);
    expect(Number(index)).toBeGreaterThan(READS);
    expect([decision, status, principal, target]).toEqual(['DENY', '403', rare.id, 'gurukul']);
    expect(threats).toBe('threats');
    expect(result.stderr).toBe('');
  });

  it('prints --limit entries and the cursor to go on from, which --cursor continues', async () => {
    const first = await runCli(['audit', 'entries', '--decision', 'allow', '--limit', '3'], {
      env: ownerEnv,
    });
    expect(first.code, first.stderr).toBe(0);
    const firstIndices = first.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(firstIndices).toHaveLength(3);
    const cursor = /--cursor '(\d+)'/.exec(first.stderr)?.[1];
    expect(cursor).toBe(String(firstIndices[2]));
    const next = await runCli(
      [
        'audit',
        'entries',
        '--decision',
        'allow',
        '--limit',
        '2',
        '--cursor',
        cursor ?? '',
        '--json',
      ],
      { env: ownerEnv },
    );
    expect(next.code, next.stderr).toBe(0);
    const page = JSON.parse(next.stdout) as {
      entries: { index: number; entry: { allow: boolean } }[];
      nextCursor: string | null;
    };
    expect(page.entries.map((e) => e.index)).toEqual([
      (firstIndices[2] ?? 0) + 1,
      (firstIndices[2] ?? 0) + 2,
    ]);
    expect(page.entries.every((e) => e.entry.allow)).toBe(true);
    expect(page.nextCursor).toBe(String(page.entries[1]?.index));
  });

  it('shows a product key only its own namespace, and refuses bad filters with exit 2', async () => {
    const product = await runCli(['audit', 'entries', '--decision', 'deny', '--all', '--json'], {
      env: cli.as(rare.key),
    });
    expect(product.code, product.stderr).toBe(0);
    const seen = JSON.parse(product.stdout) as {
      entries: { entry: { principal: { product: string }; target: { product: string } } }[];
      nextCursor: string | null;
    };
    // Its own denial is about gurukul, but its principal is of ai_avatar: it sees it.
    expect(seen.entries.length).toBeGreaterThan(0);
    for (const { entry } of seen.entries) {
      expect([entry.principal.product, entry.target.product]).toContain('ai_avatar');
    }
    expect(seen.nextCursor).toBeNull();
    for (const args of [
      ['--decision', 'maybe'],
      ['--since', 'yesterday'],
      ['--artifact', 'ai_avatar'],
      ['--all', '--limit', '5'],
    ]) {
      const bad = await runCli(['audit', 'entries', ...args], { env: ownerEnv });
      expect(bad.code, args.join(' ')).toBe(2);
    }
  });
});
